import EdgeCore

/// Every hyperparameter of learning in one place, each with a one-line doc and its default.
///
/// The defaults are the recipe a PyTorch prototype measured to work on Pendulum-v1 (DESIGN.md
/// section 4). The dynamics ensemble and reward model keep theirs in `models` (ModelHyperparameters.swift).
/// Overrides come as `key=value` text: `set(_:to:)`, `apply(override:)` for the CLI's `--set`, and
/// `apply(configText:source:)` for a config file. Keys are the property names (`gamma`, `horizon`,
/// `models.<name>`); `configText()` writes them all back out in the config-file format.
public struct Hyperparameters {
    // MARK: Imagination

    /// Imagined rollouts per PPO iteration, stepped together as lanes (rounded up to 16; ≤ models.maxLanes).
    public var rollouts = 160
    /// Steps per imagined rollout (see `Imagination` for why 25).
    public var horizon = 25
    /// Imagined rewards are multiplied by this before GAE and the value loss (smaller value targets).
    public var rewardScale: Float = 0.1
    /// A step whose ensemble disagreement (state-change std units) exceeds this ends its rollout (inf = never).
    public var disagreementThreshold: Float = .infinity
    /// Reward penalty per unit of ensemble disagreement, in raw reward units (0 = none).
    public var disagreementPenalty: Float = 0

    // MARK: PPO

    /// Discount factor γ per control step.
    public var gamma: Float = 0.99
    /// GAE λ: 0 is one-step TD, 1 is Monte Carlo.
    public var gaeLambda: Float = 0.95
    /// PPO ratio clip ε: the surrogate ignores ratios outside [1 − ε, 1 + ε] that would help it more.
    public var clipRange: Float = 0.2
    /// Clip of the value change per update in the value loss, in scaled-return units (0 = unclipped loss).
    public var valueClipRange: Float = 0
    /// Passes over each imagined batch.
    public var epochs = 5
    /// Samples per minibatch at most (a batch splits into equal minibatches no larger than this).
    public var minibatchSize = 1024
    /// Adam step size of the policy (mean network and log-std).
    public var policyLearningRate: Float = 1e-3
    /// Adam step size of the value network.
    public var valueLearningRate: Float = 1e-3
    /// Adam ε (cleanrl's 1e-5 rather than PyTorch's 1e-8).
    public var adamEpsilon: Float = 1e-5
    /// Gradients of the policy (and, separately, of the value network) are scaled to at most this L2 norm.
    public var maxGradNorm: Float = 1
    /// Weight of the policy entropy bonus in the loss (0 = none; exploration comes from the initial log-std).
    public var entropyCoefficient: Float = 0
    /// Standardize advantages within each minibatch.
    public var normalizeAdvantages = true

    // MARK: Policy

    /// Initial log σ of the Gaussian over actions normalized to [-1, 1] by the actuator bounds.
    /// ln 0.5: σ is a quarter of the actuator range, the prototype's σ = 1 N·m on Pendulum's ±2 N·m.
    public var initialLogStd: Float = -0.693_147_2
    /// Floor of log σ after each update (σ ≥ 0.3 of the half-range): without it some pendulum seeds
    /// collapsed exploration while holding still at full torque and never recovered (−20 = no floor).
    public var minLogStd: Float = -1.2
    /// Scale of the mean network's initial last-layer weights, so the first actions are near the center.
    public var policyOutputScale: Float = 0.01
    /// Initial hidden-layer weights of policy and value have std gain/√fan-in: cleanrl's orthogonal gain
    /// √2 (1/√3 is PyTorch's default). With √2 more seeds escaped the pendulum's hold-still optimum.
    public var hiddenInitGain: Float = 1.414_213_6

    // MARK: Outer loop

    /// PPO iterations (imagine, then update) after each real episode.
    public var ppoIterationsPerEpisode = 20

    // MARK: Models

    /// Dynamics ensemble and reward model settings (keys `models.<name>`).
    public var models = ModelHyperparameters()

    /// All defaults.
    public init() {}

    /// Imagined steps per PPO iteration: rollouts × horizon.
    public var imaginedStepsPerIteration: Int { rollouts * horizon }
}

// MARK: - Overrides

/// Where a `key = value` override came from, for error messages.
public struct OverrideLocation: Equatable, Sendable {
    /// A file path, or "--set" for a command-line override.
    public var source: String
    /// 1-based line in `source`; 0 for a command-line override.
    public var line: Int

    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }

    /// "--set" or "path line N".
    public var text: String { line == 0 ? source : source + " line \(line)" }
}

/// A `key = value` override that could not be applied; `message` is one line naming the key, the
/// place and the fix.
public enum HyperparameterError: Error, Equatable {
    /// No hyperparameter has this key.
    case unknownKey(String, at: OverrideLocation)
    /// The value does not parse as the key's type or lies outside its range (`expected` says what fits).
    case invalidValue(key: String, value: String, expected: String, at: OverrideLocation)
    /// The text has no `=` between a key and a value.
    case missingEquals(String, at: OverrideLocation)

    public var message: String {
        switch self {
        case let .unknownKey(key, at):
            let keys = Hyperparameters.fields.map { $0.key }
            // A plain loop, not `keys.min { ... } ?? ""`: in the Embedded aarch64 release build (Swift
            // 6.3.1) that String came back with a damaged discriminator (0x88 for 0xE8), the next
            // `Array(nearest.utf8)` asked for ~100 TB and `edge-ctl train --set nokey=1` trapped.
            var nearest = "", distance = Int.max
            for candidate in keys {
                let d = editDistance(candidate, key)
                if d < distance { nearest = candidate; distance = d }
            }
            if distance <= max(2, key.utf8.count / 4) {
                return at.text + ": unknown hyperparameter '" + key + "'; did you mean '" + nearest + "'?"
            }
            return at.text + ": unknown hyperparameter '" + key + "'; known keys: " + keys.joined(separator: ", ")
        case let .invalidValue(key, value, expected, at):
            return at.text + ": '" + value + "' is not a valid value for '" + key + "'; expected " + expected
        case let .missingEquals(text, at):
            return at.text + ": '" + text + "' is not 'key = value'"
        }
    }
}

extension Hyperparameters {
    /// Sets the hyperparameter named `key` from its text form (surrounding spaces ignored).
    public mutating func set(_ key: String, to value: String,
                             at location: OverrideLocation = OverrideLocation(source: "--set", line: 0))
        throws(HyperparameterError) {
        let value = trimmed(Substring(value))
        guard let field = Self.fields.first(where: { $0.key == key }) else {
            throw .unknownKey(key, at: location)
        }
        if let expected = field.assign(&self, value) {
            throw .invalidValue(key: key, value: String(value), expected: expected, at: location)
        }
    }

    /// Applies one `key=value` override (the CLI's `--set key=value`).
    public mutating func apply(override text: String,
                               at location: OverrideLocation = OverrideLocation(source: "--set", line: 0))
        throws(HyperparameterError) {
        guard let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) else {
            throw .missingEquals(String(trimmed(Substring(text))), at: location)
        }
        let key = trimmed(text[..<equals])
        guard !key.isEmpty else { throw .missingEquals(String(trimmed(Substring(text))), at: location) }
        try set(String(key), to: String(text[text.utf8.index(after: equals)...]), at: location)
    }

    /// Applies a config file's text: one `key = value` per line; blank lines and everything after `#`
    /// are ignored. Stops at the first bad line; `source` (the file's path) names it in the error.
    public mutating func apply(configText text: String, source: String) throws(HyperparameterError) {
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let content = line.firstIndex(of: UInt8(ascii: "#")).map { text[line.startIndex..<$0] }
                ?? text[line.startIndex..<line.endIndex]
            let body = trimmed(content)
            if body.isEmpty { continue }
            try apply(override: String(body), at: OverrideLocation(source: source, line: lineNumber))
        }
    }

    /// Every hyperparameter as `key = value` lines, in the config-file format (round-trips through
    /// `apply(configText:source:)`).
    public func configText() -> String {
        var text = ""
        for field in Self.fields { text += field.key + " = " + field.render(self) + "\n" }
        return text
    }

    /// The table behind parsing and `configText()`: each key once, with its type and range. Built on
    /// each use (parsing is rare), so no global state.
    static var fields: [HyperparameterField<Hyperparameters>] {
        [
            .int("rollouts", 1...65_536, { $0.rollouts }, { $0.rollouts = $1 }),
            .int("horizon", 1...10_000, { $0.horizon }, { $0.horizon = $1 }),
            .float("rewardScale", 0...1e6, { $0.rewardScale }, { $0.rewardScale = $1 }),
            .float("disagreementThreshold", 0...Float.infinity, { $0.disagreementThreshold },
                   { $0.disagreementThreshold = $1 }),
            .float("disagreementPenalty", 0...1e6, { $0.disagreementPenalty }, { $0.disagreementPenalty = $1 }),
            .float("gamma", 0...1, { $0.gamma }, { $0.gamma = $1 }),
            .float("gaeLambda", 0...1, { $0.gaeLambda }, { $0.gaeLambda = $1 }),
            .float("clipRange", 0...10, { $0.clipRange }, { $0.clipRange = $1 }),
            .float("valueClipRange", 0...1e6, { $0.valueClipRange }, { $0.valueClipRange = $1 }),
            .int("epochs", 1...1_000, { $0.epochs }, { $0.epochs = $1 }),
            .int("minibatchSize", 1...65_536, { $0.minibatchSize }, { $0.minibatchSize = $1 }),
            .float("policyLearningRate", 0...1, { $0.policyLearningRate }, { $0.policyLearningRate = $1 }),
            .float("valueLearningRate", 0...1, { $0.valueLearningRate }, { $0.valueLearningRate = $1 }),
            .float("adamEpsilon", 1e-12...1, { $0.adamEpsilon }, { $0.adamEpsilon = $1 }),
            .float("maxGradNorm", 1e-6...Float.infinity, { $0.maxGradNorm }, { $0.maxGradNorm = $1 }),
            .float("entropyCoefficient", 0...1e3, { $0.entropyCoefficient }, { $0.entropyCoefficient = $1 }),
            .bool("normalizeAdvantages", { $0.normalizeAdvantages }, { $0.normalizeAdvantages = $1 }),
            .float("initialLogStd", -20...5, { $0.initialLogStd }, { $0.initialLogStd = $1 }),
            .float("minLogStd", -20...5, { $0.minLogStd }, { $0.minLogStd = $1 }),
            .float("policyOutputScale", 0...100, { $0.policyOutputScale }, { $0.policyOutputScale = $1 }),
            .float("hiddenInitGain", 0...100, { $0.hiddenInitGain }, { $0.hiddenInitGain = $1 }),
            .int("ppoIterationsPerEpisode", 0...100_000, { $0.ppoIterationsPerEpisode },
                 { $0.ppoIterationsPerEpisode = $1 }),
        ] + modelFields.map { $0.nested(prefix: "models.", get: { $0.models }, set: { $0.models = $1 }) }
    }

    /// The settings of ModelHyperparameters.swift (the models' file), kept in step with it here so
    /// every key is parsed in one table.
    static var modelFields: [HyperparameterField<ModelHyperparameters>] {
        [
            .int("ensembleSize", 1...64, { $0.ensembleSize }, { $0.ensembleSize = $1 }),
            .float("minLogVariance", -40...40, { $0.minLogVariance }, { $0.minLogVariance = $1 }),
            .float("maxLogVariance", -40...40, { $0.maxLogVariance }, { $0.maxLogVariance = $1 }),
            .int("maxLanes", 16...65_536, { $0.maxLanes }, { $0.maxLanes = $1 }),
            .float("imaginedStateMargin", -1...Float.infinity, { $0.imaginedStateMargin },
                   { $0.imaginedStateMargin = $1 }),
        ] + fitFields.map { $0.nested(prefix: "dynamicsFit.", get: { $0.dynamicsFit }, set: { $0.dynamicsFit = $1 }) }
          + fitFields.map { $0.nested(prefix: "rewardFit.", get: { $0.rewardFit }, set: { $0.rewardFit = $1 }) }
    }

    static var fitFields: [HyperparameterField<FitHyperparameters>] {
        [
            .float("learningRate", 0...1, { $0.learningRate }, { $0.learningRate = $1 }),
            .float("weightDecay", 0...1, { $0.weightDecay }, { $0.weightDecay = $1 }),
            .int("batchSize", 1...65_536, { $0.batchSize }, { $0.batchSize = $1 }),
            .int("patienceEpochs", 1...10_000, { $0.patienceEpochs }, { $0.patienceEpochs = $1 }),
            .float("minRelativeImprovement", 0...1, { $0.minRelativeImprovement }, { $0.minRelativeImprovement = $1 }),
            .int("maxStepsPerFit", 1...100_000_000, { $0.maxStepsPerFit }, { $0.maxStepsPerFit = $1 }),
        ]
    }
}

/// One hyperparameter of a settings struct `Root`: its key, how to print it and how to set it from text.
/// Settings of a nested struct join the table through `nested(prefix:get:set:)` (keys `models.…`).
/// Closures rather than key paths, so Embedded Swift accepts it.
public struct HyperparameterField<Root> {
    /// The key in overrides and config files.
    public let key: String
    /// The current value as text that parses back to the same value.
    public let render: (Root) -> String
    /// Sets the value from text; returns nil, or a description of what fits ("a number in [0, 1]").
    public let assign: (inout Root, Substring) -> String?

    public init(key: String, render: @escaping (Root) -> String,
                assign: @escaping (inout Root, Substring) -> String?) {
        self.key = key
        self.render = render
        self.assign = assign
    }

    /// A Float setting accepting values in `range` (`inf` is written and read as "inf").
    public static func float(_ key: String, _ range: ClosedRange<Float>, _ get: @escaping (Root) -> Float,
                             _ set: @escaping (inout Root, Float) -> Void) -> Self {
        Self(key: key, render: { shortestText(get($0)) }, assign: { root, text in
            guard let value = Float(text), range.contains(value) else {
                return "a number in [" + formatFloat(range.lowerBound) + ", " + formatFloat(range.upperBound) + "]"
            }
            set(&root, value)
            return nil
        })
    }

    /// An Int setting accepting values in `range`.
    public static func int(_ key: String, _ range: ClosedRange<Int>, _ get: @escaping (Root) -> Int,
                           _ set: @escaping (inout Root, Int) -> Void) -> Self {
        Self(key: key, render: { "\(get($0))" }, assign: { root, text in
            guard let value = Int(text), range.contains(value) else {
                return "an integer in [\(range.lowerBound), \(range.upperBound)]"
            }
            set(&root, value)
            return nil
        })
    }

    /// A Bool setting: true/false (also 1/0, yes/no).
    public static func bool(_ key: String, _ get: @escaping (Root) -> Bool,
                            _ set: @escaping (inout Root, Bool) -> Void) -> Self {
        Self(key: key, render: { get($0) ? "true" : "false" }, assign: { root, text in
            switch text {
            case "true", "1", "yes": set(&root, true)
            case "false", "0", "no": set(&root, false)
            default: return "true or false"
            }
            return nil
        })
    }

    /// This field as a field of a struct that holds a `Root` (key prefixed, e.g. "models.").
    public func nested<Outer>(prefix: String, get: @escaping (Outer) -> Root,
                              set: @escaping (inout Outer, Root) -> Void) -> HyperparameterField<Outer> {
        let render = self.render, assign = self.assign
        return HyperparameterField<Outer>(key: prefix + key, render: { render(get($0)) }, assign: { outer, text in
            var inner = get(outer)
            let failure = assign(&inner, text)
            if failure == nil { set(&outer, inner) }
            return failure
        })
    }
}

/// The shortest `%g` text (6 to 9 significant digits) that parses back to exactly `value`.
func shortestText(_ value: Float) -> String {
    for digits in 6..<9 {
        let text = formatFloat(value, digits: digits)
        if Float(text) == value { return text }
    }
    return formatFloat(value, digits: 9)
}

/// Levenshtein distance between two keys (bytes), for "did you mean" suggestions. O(|a| · |b|).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
    var previous = Array(0...b.count), current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// `text` without leading and trailing spaces, tabs and carriage returns.
func trimmed(_ text: Substring) -> Substring {
    let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D }
    guard let first = text.utf8.firstIndex(where: { !isBlank($0) }),
          let last = text.utf8.lastIndex(where: { !isBlank($0) }) else { return text[text.endIndex...] }
    return text[first...last]
}
