/// An elementwise activation, applied to whole vectors. Chosen at compile time as a type parameter of
/// `MLP`, so the kernel for each network is specialized and has no branch per element.
public protocol Activation {
    /// y = f(z)
    static func forward(_ z: Vec) -> Vec
    /// dL/dz from dL/dy, given z and y = f(z) (each activation uses whichever is cheaper).
    static func backward(_ dy: Vec, z: Vec, y: Vec) -> Vec
    /// Short name for reports ("tanh").
    static var name: String { get }
}

/// tanh: f'(z) = 1 - y^2.
public enum Tanh: Activation {
    @inlinable @inline(__always) public static func forward(_ z: Vec) -> Vec { fastTanh(z) }
    @inlinable @inline(__always) public static func backward(_ dy: Vec, z: Vec, y: Vec) -> Vec {
        dy * (Vec(repeating: 1) - y * y)
    }
    public static var name: String { "tanh" }
}

/// ReLU: f'(z) = 1 where z > 0, else 0.
public enum ReLU: Activation {
    @inlinable @inline(__always) public static func forward(_ z: Vec) -> Vec {
        z.replacing(with: 0, where: z .< 0)
    }
    @inlinable @inline(__always) public static func backward(_ dy: Vec, z: Vec, y: Vec) -> Vec {
        dy.replacing(with: 0, where: z .<= 0)
    }
    public static var name: String { "relu" }
}

/// SiLU (swish) z * sigmoid(z): f'(z) = s (1 + z (1 - s)).
public enum SiLU: Activation {
    @inlinable @inline(__always) public static func forward(_ z: Vec) -> Vec { z * fastSigmoid(z) }
    @inlinable @inline(__always) public static func backward(_ dy: Vec, z: Vec, y: Vec) -> Vec {
        let s = fastSigmoid(z)
        return dy * s * madd(z, Vec(repeating: 1) - s, Vec(repeating: 1))
    }
    public static var name: String { "silu" }
}

/// Identity: f'(z) = 1.
public enum Identity: Activation {
    @inlinable @inline(__always) public static func forward(_ z: Vec) -> Vec { z }
    @inlinable @inline(__always) public static func backward(_ dy: Vec, z: Vec, y: Vec) -> Vec { dy }
    public static var name: String { "identity" }
}
