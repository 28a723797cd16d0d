import EdgeCore

/// What one refit did. Losses and mean squared errors are per element (mean over samples and target
/// dimensions, in standardized target units), averaged over the members. With no holdout rows (tiny
/// buffers) the "holdout" figures and early stopping use the training rows.
public struct FitReport {
    /// Networks fitted.
    public var members = 0
    /// Transitions trained on and held out.
    public var trainCount = 0
    public var holdoutCount = 0
    /// Holdout loss and MSE of the weights carried over from the previous fit, measured after
    /// re-standardizing with this fit's statistics: the early-stopping baseline.
    public var initialHoldoutLoss: Double = 0
    public var initialHoldoutMSE: Double = 0
    /// Final loss and MSE (best snapshot of each member) on the training and holdout rows.
    public var trainLoss: Double = 0
    public var trainMSE: Double = 0
    public var holdoutLoss: Double = 0
    public var holdoutMSE: Double = 0
    /// Per target dimension: root mean squared error of the predicted mean on the holdout rows, in raw
    /// target units (root of the members' mean MSE).
    public var holdoutRMSE: [Double] = []
    /// Passes over the training rows (the last one may be partial) and minibatch steps per member.
    public var epochs = 0
    public var steps = 0
    /// Minibatch steps summed over the members (members stop separately).
    public var memberSteps = 0
    /// True when every member ran out of patience, false when the step limit ended the fit.
    public var stoppedEarly = false
    /// Wall time of the whole refit, and of the minibatch steps alone.
    public var seconds: Double = 0
    public var trainingSeconds: Double = 0

    public init() {}

    /// One line for logs.
    public var summary: String {
        "\(members) x fit on \(trainCount)+\(holdoutCount): holdout loss " + formatFloat(holdoutLoss, digits: 4)
            + " (from " + formatFloat(initialHoldoutLoss, digits: 4) + "), mse " + formatFloat(holdoutMSE, digits: 4)
            + ", train loss " + formatFloat(trainLoss, digits: 4) + " mse " + formatFloat(trainMSE, digits: 4)
            + "; \(epochs) epochs, \(steps) steps" + (stoppedEarly ? " (early stop)" : " (step limit)")
            + ", " + formatFloat(seconds, digits: 3) + " s"
    }
}
