/// A multilayer perceptron with two hidden layers, In → Hidden → Hidden → Out, activation `Act` after
/// each hidden layer and a linear output. Shapes are type parameters, so every kernel is specialized
/// for them; all parameters live in one `ParameterStore` and all scratch memory is allocated here, once.
///
/// Shapes (one sample; padded buffers in brackets):
///   x[In] → z1 = W1ᵀx + b1 [Hidden] → h1 = Act(z1) → z2 = W2ᵀh1 + b2 [Hidden] → h2 = Act(z2)
///   → y = W3ᵀh2 + b3 [Out]
/// A batch is the same with every buffer [features][lanes], one sample per lane.
///
/// Not thread-safe: one instance is used by one thread at a time (the control loop gets its own copy).
public final class MLP<let In: Int, let Hidden: Int, let Out: Int, Act: Activation> {
    public typealias Layer1 = Dense<In, Hidden>
    public typealias Layer2 = Dense<Hidden, Hidden>
    public typealias Layer3 = Dense<Hidden, Out>

    public let parameters: ParameterStore
    public let l1: Layer1
    public let l2: Layer2
    public let l3: Layer3

    /// Largest batch (lanes) the batched buffers hold; 0 if the network is only used one sample at a time.
    public let maxLanes: Int

    // One-sample activations [padded width].
    @usableFromInline let z1, h1, z2, h2, y: UnsafeMutablePointer<Float>
    // One-sample backward scratch.
    @usableFromInline let dy, dh, dz: UnsafeMutablePointer<Float>
    // Batched activations [width][maxLanes] and gradients.
    @usableFromInline let bz1, bh1, bz2, bh2, by, bd1, bd2: UnsafeMutablePointer<Float>

    /// A network with `Layer.initialize` weights (`outputScale` scales the last layer's, e.g. 0.01
    /// for a policy mean so the first actions are near zero).
    public init(rng: inout RandomSource, maxLanes: Int = 0, outputScale: Float = 1) {
        precondition(maxLanes % laneBlock == 0, "maxLanes must be a multiple of 16")
        var layout = ParameterLayout()
        let o1 = layout.reserve(Layer1.parameterCount)
        let o2 = layout.reserve(Layer2.parameterCount)
        let o3 = layout.reserve(Layer3.parameterCount)
        parameters = ParameterStore(count: layout.count)
        l1 = Layer1(store: parameters, offset: o1)
        l2 = Layer2(store: parameters, offset: o2)
        l3 = Layer3(store: parameters, offset: o3)
        self.maxLanes = maxLanes
        let hp = paddedToVec(Hidden), op = paddedToVec(Out), ip = paddedToVec(In), wide = max(hp, op, ip)
        z1 = allocateFloats(hp); h1 = allocateFloats(hp); z2 = allocateFloats(hp); h2 = allocateFloats(hp)
        y = allocateFloats(op)
        dy = allocateFloats(wide); dh = allocateFloats(wide); dz = allocateFloats(wide)
        let n = maxLanes
        bz1 = allocateFloats(Hidden * n); bh1 = allocateFloats(Hidden * n)
        bz2 = allocateFloats(Hidden * n); bh2 = allocateFloats(Hidden * n)
        by = allocateFloats(Out * n)
        bd1 = allocateFloats(max(Hidden, Out, In) * n); bd2 = allocateFloats(max(Hidden, Out, In) * n)
        l1.initialize(rng: &rng)
        l2.initialize(rng: &rng)
        l3.initialize(rng: &rng, scale: outputScale)
    }

    deinit {
        for p in [z1, h1, z2, h2, y, dy, dh, dz, bz1, bh1, bz2, bh2, by, bd1, bd2] { p.deallocate() }
    }

    // MARK: One sample

    /// Forward pass for one sample x[0..<In]. Returns the outputs (Out values) in a buffer owned by the
    /// network, valid until the next call. Allocates nothing.
    @inlinable @discardableResult
    public func forward(_ x: UnsafePointer<Float>) -> UnsafePointer<Float> {
        l1.forward(x, z1)
        Self.activate(z1, h1, count: paddedToVec(Hidden))
        l2.forward(h1, z2)
        Self.activate(z2, h2, count: paddedToVec(Hidden))
        l3.forward(h2, y)
        return UnsafePointer(y)
    }

    /// Backward pass for the sample of the last one-sample `forward(x)` call: adds dL/dθ into
    /// `parameters.grads` given dL/dy (`outputGrad`, Out values) and writes dL/dx (In values) into
    /// `inputGrad` if given. Allocates nothing.
    @inlinable
    public func backward(_ x: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                         inputGrad: UnsafeMutablePointer<Float>? = nil) {
        let hp = paddedToVec(Hidden)
        dy.update(repeating: 0, count: paddedToVec(Out))
        dy.update(from: outputGrad, count: Out)
        l3.backward(h2, dy, dh)
        Self.activateBackward(dh, z2, h2, into: dz, count: hp)
        l2.backward(h1, dz, dh)
        Self.activateBackward(dh, z1, h1, into: dz, count: hp)
        l1.backward(x, dz, inputGrad)
    }

    // MARK: A batch, samples in lanes

    /// Forward pass for x[In][lanes] (lanes ≤ maxLanes, a multiple of 16). Returns y[Out][lanes] in a
    /// buffer owned by the network, valid until the next batched call. Allocates nothing.
    @inlinable @discardableResult
    public func forward(batch x: UnsafePointer<Float>, lanes: Int) -> UnsafeMutablePointer<Float> {
        precondition(lanes <= maxLanes, "batch larger than the network's maxLanes")
        l1.forward(batch: x, bz1, lanes: lanes)
        Self.activate(bz1, bh1, count: Hidden * lanes)
        l2.forward(batch: bh1, bz2, lanes: lanes)
        Self.activate(bz2, bh2, count: Hidden * lanes)
        l3.forward(batch: bh2, by, lanes: lanes)
        return by
    }

    /// Backward pass for the batch of the last batched `forward(batch:lanes:)`: adds dL/dθ (summed over
    /// the lanes) into `parameters.grads` given dL/dy[Out][lanes], and writes dL/dx[In][lanes] into
    /// `inputGrad` if given. Lanes that hold no sample must have zero output gradient.
    @inlinable
    public func backward(batch x: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>, lanes: Int,
                         inputGrad: UnsafeMutablePointer<Float>? = nil) {
        l3.backward(batch: bh2, outputGrad, bd1, lanes: lanes)
        Self.activateBackward(bd1, bz2, bh2, into: bd2, count: Hidden * lanes)
        l2.backward(batch: bh1, bd2, bd1, lanes: lanes)
        Self.activateBackward(bd1, bz1, bh1, into: bd2, count: Hidden * lanes)
        l1.backward(batch: x, bd2, inputGrad, lanes: lanes)
    }

    // MARK: Activations over whole buffers

    @inlinable @inline(__always)
    static func activate(_ z: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i < count { storeVec(Act.forward(loadVec(z, i)), h, i); i += vecWidth }
    }

    @inlinable @inline(__always)
    static func activateBackward(_ dh: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ h: UnsafePointer<Float>,
                                 into dz: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i < count {
            storeVec(Act.backward(loadVec(dh, i), z: loadVec(z, i), y: loadVec(h, i)), dz, i)
            i += vecWidth
        }
    }

    /// Number of real (unpadded) parameters: weights and biases of the three layers.
    public static var parameterCount: Int { In * Hidden + Hidden + Hidden * Hidden + Hidden + Hidden * Out + Out }
}
