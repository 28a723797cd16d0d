/// Adam (Kingma and Ba, 2015) with bias correction and optional decoupled weight decay (AdamW,
/// Loshchilov and Hutter, 2019) over one `ParameterStore`. First and second moments live in one
/// allocation made at construction; a step allocates nothing. O(parameters) per step.
public final class Adam {
    public let store: ParameterStore
    /// Step size.
    public var learningRate: Float
    /// Decay of the first moment.
    public var beta1: Float
    /// Decay of the second moment.
    public var beta2: Float
    /// Added to √v̂ so the step stays bounded.
    public var epsilon: Float
    /// Decoupled weight decay per step, multiplied by the learning rate (0 = plain Adam).
    public var weightDecay: Float
    /// Steps taken (bias correction uses it).
    public private(set) var steps = 0
    let moments: UnsafeMutablePointer<Float>  // m then v
    var beta1Power: Double = 1
    var beta2Power: Double = 1

    public init(store: ParameterStore, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        precondition(epsilon > 0, "Adam needs epsilon > 0 (padding entries have zero gradient and moments)")
        self.store = store
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        moments = allocateFloats(2 * store.count)
    }

    deinit { moments.deallocate() }

    /// First moments (`store.count` Floats), for checkpoints.
    public var firstMoments: UnsafeMutablePointer<Float> { moments }
    /// Second moments (`store.count` Floats), for checkpoints.
    public var secondMoments: UnsafeMutablePointer<Float> { moments + store.count }

    /// Restores the step count (the moments are restored through their pointers).
    public func restore(steps: Int) {
        self.steps = steps
        beta1Power = 1; beta2Power = 1
        for _ in 0..<steps { beta1Power *= Double(beta1); beta2Power *= Double(beta2) }
    }

    /// θ ← θ − lr · (m̂ / (√v̂ + ε) + weightDecay · θ), using the gradients in the store.
    public func step() {
        steps += 1
        beta1Power *= Double(beta1)
        beta2Power *= Double(beta2)
        let c1 = Vec(repeating: Float(1 / (1 - beta1Power)))
        let c2 = Vec(repeating: Float(1 / (1 - beta2Power)))
        let b1 = Vec(repeating: beta1), b2 = Vec(repeating: beta2)
        let ob1 = Vec(repeating: 1 - beta1), ob2 = Vec(repeating: 1 - beta2)
        let lr = Vec(repeating: learningRate), eps = Vec(repeating: epsilon)
        let decay = Vec(repeating: 1 - learningRate * weightDecay)
        let m = moments, v = moments + store.count, p = store.values, g = store.grads
        var i = 0
        while i < store.count {
            let gi = loadVec(g, i)
            let mi = madd(b1, loadVec(m, i), ob1 * gi)
            let vi = madd(b2, loadVec(v, i), ob2 * gi * gi)
            storeVec(mi, m, i); storeVec(vi, v, i)
            let update = (mi * c1) / ((vi * c2).squareRoot() + eps)
            storeVec(loadVec(p, i) * decay - lr * update, p, i)
            i += vecWidth
        }
    }
}
