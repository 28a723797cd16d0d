import CEdgeSys
import EdgeCore

/// K networks `MLP<In, 64, Out, SiLU>` that regress standardized targets from standardized inputs: the
/// fitting machinery shared by `DynamicsEnsemble` (Gaussian NLL) and `RewardModel` (squared error).
///
/// A refit (`fit`) recomputes the input and target statistics over the training rows, re-expresses
/// every member's first and last layer so the networks compute the same raw function under the new
/// statistics (weights carried over stay meaningful), measures the holdout baseline, then runs AdamW
/// minibatch steps, each member over its own shuffle of the training rows, evaluating the holdout loss
/// and MSE after every epoch. A member stops after `patienceEpochs` epochs in which neither improved by
/// `minRelativeImprovement` (relative); at the end every member is restored to its lowest-holdout-loss
/// snapshot.
///
/// Why both measures: on Pendulum-v1, stopping on the MSE alone froze warm-started members whose
/// confident variances met new data (the NLL gradient kicked the MSE up for 5 epochs, so the pre-fit
/// snapshot was restored and nothing was learned); stopping on the NLL alone ended fits from scratch
/// at 3x the MSE. Either one improving keeps a member training.
///
/// The raw data are copied in by the owner (`rawRows(count:)`) before each fit. Not thread-safe.
public final class RegressionEnsemble<let In: Int, let Out: Int, Loss: RegressionLoss> {
    public typealias Network = MLP<In, 64, Out, SiLU>

    public let loss: Loss
    /// Targets per sample (Out for squared error, Out / 2 for a Gaussian).
    public let targetCount: Int
    public let settings: FitHyperparameters
    /// Largest batch one forward call handles.
    public let maxLanes: Int
    public let members: [Network]
    /// Per member: AdamW state, carried over between fits.
    public let optimizers: [Adam]
    let snapshots: [ParameterStore]

    /// Standardization x̃ = (x − mean) / std of the inputs (In values each) and targets (targetCount
    /// values each), from the last fit's training rows (mean 0, std 1 before the first fit). Read-only
    /// views; `setStandardization` replaces them when a checkpoint is restored.
    public var inputMean: UnsafePointer<Float> { UnsafePointer(inMean) }
    public var inputStd: UnsafePointer<Float> { UnsafePointer(inStd) }
    public var targetMean: UnsafePointer<Float> { UnsafePointer(outMean) }
    public var targetStd: UnsafePointer<Float> { UnsafePointer(outStd) }
    let inMean, inStd, inInvStd, outMean, outStd, outInvStd: UnsafeMutablePointer<Float>
    /// Whether the weights are expressed in the current statistics (after a fit or `setStandardization`),
    /// so the next fit re-expresses them instead of starting over.
    public private(set) var isStandardized = false
    /// Standard deviations below this are treated as this (a constant feature standardizes to 0).
    static var minStd: Float { 1e-6 }

    var rowCapacity = 0
    var rawInputs: UnsafeMutablePointer<Float>   // [rowCapacity][In]
    var rawTargets: UnsafeMutablePointer<Float>  // [rowCapacity][targetCount]
    var order: UnsafeMutablePointer<Int32>       // [members][rowCapacity]: each member's shuffle
    let scratchLanes: Int
    let batchX, batchT, batchGrad: UnsafeMutablePointer<Float>  // [In | targets | Out][scratchLanes]
    let perTarget: UnsafeMutablePointer<Double>                  // [targetCount]

    /// `count` freshly initialized networks (at least 1) trained with `settings`.
    public init(count: Int, loss: Loss, settings: FitHyperparameters, maxLanes: Int, rng: inout RandomSource) {
        precondition(count >= 1, "an ensemble needs at least one member")
        precondition(maxLanes > 0 && maxLanes % laneBlock == 0, "maxLanes must be a positive multiple of 16")
        precondition(settings.batchSize > 0 && settings.patienceEpochs > 0, "batchSize and patience must be positive")
        self.loss = loss
        self.settings = settings
        self.maxLanes = maxLanes
        targetCount = loss.targetCount(outputs: Out)
        scratchLanes = max(maxLanes, paddedToLanes(settings.batchSize))
        var nets: [Network] = [], adams: [Adam] = [], stores: [ParameterStore] = []
        for _ in 0..<count {
            let net = Network(rng: &rng, maxLanes: scratchLanes)
            nets.append(net)
            adams.append(Adam(store: net.parameters, learningRate: settings.learningRate,
                              weightDecay: settings.weightDecay))
            stores.append(ParameterStore(count: net.parameters.count))
        }
        members = nets; optimizers = adams; snapshots = stores
        inMean = allocateFloats(In); inStd = allocateFloats(In); inInvStd = allocateFloats(In)
        outMean = allocateFloats(targetCount); outStd = allocateFloats(targetCount)
        outInvStd = allocateFloats(targetCount)
        for p in [inStd, inInvStd] { p.update(repeating: 1, count: In) }
        for p in [outStd, outInvStd] { p.update(repeating: 1, count: targetCount) }
        rawInputs = allocateFloats(0); rawTargets = allocateFloats(0)
        order = .allocate(capacity: 1)
        batchX = allocateFloats(In * scratchLanes)
        batchT = allocateFloats(targetCount * scratchLanes)
        batchGrad = allocateFloats(Out * scratchLanes)
        perTarget = .allocate(capacity: targetCount)
    }

    deinit {
        for p in [inMean, inStd, inInvStd, outMean, outStd, outInvStd, rawInputs, rawTargets,
                  batchX, batchT, batchGrad] { p.deallocate() }
        order.deallocate(); perTarget.deallocate()
    }

    /// Storage for `count` raw rows, row-major: inputs [count][In] and targets [count][targetCount], for
    /// the owner to fill before `fit`. Grows by doubling (allocates); valid until the next call.
    public func rawRows(count: Int) -> (inputs: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>) {
        if count > rowCapacity {
            let capacity = max(count, 2 * rowCapacity)
            rawInputs.deallocate(); rawTargets.deallocate(); order.deallocate()
            rawInputs = allocateFloats(capacity * In)
            rawTargets = allocateFloats(capacity * targetCount)
            order = .allocate(capacity: members.count * capacity)
            rowCapacity = capacity
        }
        return (rawInputs, rawTargets)
    }

    // MARK: Forward

    /// Standardizes raw inputs given as two blocks of rows, first[firstRows][lanes] then
    /// second[In − firstRows][lanes], into x[In][lanes]. O(In · lanes), allocates nothing.
    public func standardizeInputs(first: UnsafePointer<Float>, rows firstRows: Int, second: UnsafePointer<Float>,
                                  lanes: Int, into x: UnsafeMutablePointer<Float>) {
        for i in 0..<In {
            let src = i < firstRows ? first + i * lanes : second + (i - firstRows) * lanes
            let m = Vec(repeating: inMean[i]), s = Vec(repeating: inInvStd[i])
            var l = 0
            while l < lanes { storeVec((loadVec(src, l) - m) * s, x, i * lanes + l); l += vecWidth }
        }
    }

    // MARK: Fitting

    /// Fits every member on the rows filled in through `rawRows`: `train[0..<trainCount]` to train on,
    /// `holdout[0..<holdoutCount]` for early stopping (when empty, the training rows are used instead).
    public func fit(train: UnsafePointer<Int32>, trainCount: Int, holdout: UnsafePointer<Int32>, holdoutCount: Int,
                    rng: inout RandomSource) -> FitReport {
        precondition(trainCount > 0, "nothing to fit: no training rows")
        let start = edge_monotonic_ns()
        let k = members.count
        restandardize(train: train, count: trainCount)
        let evalRows = holdoutCount > 0 ? holdout : train
        let evalCount = holdoutCount > 0 ? holdoutCount : trainCount

        var report = FitReport()
        report.members = k; report.trainCount = trainCount; report.holdoutCount = holdoutCount
        // The baseline is measured after re-standardizing: an earlier measurement would compare losses
        // in different units (DESIGN.md section 4: that bug doubled the real steps needed).
        var best = [Double](repeating: 0, count: k), referenceLoss = best, referenceMSE = best
        var waited = [Int](repeating: 0, count: k), active = [Bool](repeating: true, count: k)
        for m in 0..<k {
            let sums = evaluate(member: m, rows: evalRows, count: evalCount, perTarget: nil)
            best[m] = sums.loss / Double(sums.elements)
            referenceLoss[m] = best[m]
            referenceMSE[m] = sums.squaredError / Double(sums.elements)
            report.initialHoldoutLoss += best[m] / Double(k)
            report.initialHoldoutMSE += referenceMSE[m] / Double(k)
            snapshots[m].copyValues(from: members[m].parameters)
            (order + m * rowCapacity).update(from: train, count: trainCount)
        }

        let batch = min(settings.batchSize, trainCount)
        let relative = Double(settings.minRelativeImprovement)
        var activeCount = k
        var trainingNs: Int64 = 0
        while activeCount > 0 && report.steps < settings.maxStepsPerFit {
            for m in 0..<k where active[m] { shuffle(order + m * rowCapacity, count: trainCount, rng: &rng) }
            var position = 0
            while position < trainCount && report.steps < settings.maxStepsPerFit {
                let n = min(batch, trainCount - position)
                let stepStart = edge_monotonic_ns()
                for m in 0..<k where active[m] {
                    trainStep(member: m, rows: order + m * rowCapacity + position, count: n)
                    report.memberSteps += 1
                }
                trainingNs += edge_monotonic_ns() - stepStart
                position += n
                report.steps += 1
            }
            report.epochs += 1
            for m in 0..<k where active[m] {
                let sums = evaluate(member: m, rows: evalRows, count: evalCount, perTarget: nil)
                let loss = sums.loss / Double(sums.elements), mse = sums.squaredError / Double(sums.elements)
                if loss < best[m] {
                    best[m] = loss
                    snapshots[m].copyValues(from: members[m].parameters)
                }
                let lossImproved = loss < referenceLoss[m] - relative * abs(referenceLoss[m])
                let mseImproved = mse < referenceMSE[m] - relative * referenceMSE[m]
                if lossImproved { referenceLoss[m] = loss }
                if mseImproved { referenceMSE[m] = mse }
                if lossImproved || mseImproved {
                    waited[m] = 0
                } else {
                    waited[m] += 1
                    if waited[m] >= settings.patienceEpochs { active[m] = false; activeCount -= 1 }
                }
            }
        }
        report.stoppedEarly = activeCount == 0

        perTarget.update(repeating: 0, count: targetCount)
        for m in 0..<k {
            members[m].parameters.copyValues(from: snapshots[m])
            let held = evaluate(member: m, rows: evalRows, count: evalCount, perTarget: perTarget)
            let trained = evaluate(member: m, rows: train, count: trainCount, perTarget: nil)
            report.holdoutLoss += held.loss / Double(held.elements) / Double(k)
            report.holdoutMSE += held.squaredError / Double(held.elements) / Double(k)
            report.trainLoss += trained.loss / Double(trained.elements) / Double(k)
            report.trainMSE += trained.squaredError / Double(trained.elements) / Double(k)
        }
        for j in 0..<targetCount {
            report.holdoutRMSE.append((perTarget[j] / Double(k * evalCount)).squareRoot() * Double(outStd[j]))
        }
        report.trainingSeconds = Double(trainingNs) * 1e-9
        report.seconds = Double(edge_monotonic_ns() - start) * 1e-9
        return report
    }

    /// One AdamW step of member `m` on rows[0..<count] (count ≤ batch size). Allocates nothing.
    func trainStep(member m: Int, rows: UnsafePointer<Int32>, count: Int) {
        let lanes = paddedToLanes(count)
        gatherStandardized(rows: rows, count: count, lanes: lanes)
        let net = members[m]
        let y = net.forward(batch: batchX, lanes: lanes)
        _ = loss.evaluate(output: y, target: batchT, targets: targetCount, lanes: lanes, valid: count,
                          gradient: batchGrad, squaredErrorPerTarget: nil)
        net.parameters.zeroGrads()
        net.backward(batch: batchX, outputGrad: batchGrad, lanes: lanes)
        optimizers[m].step()
    }

    /// Loss sums of member `m` over rows[0..<count], in chunks of `scratchLanes`.
    func evaluate(member m: Int, rows: UnsafePointer<Int32>, count: Int,
                  perTarget: UnsafeMutablePointer<Double>?) -> LossSums {
        var sums = LossSums()
        var start = 0
        while start < count {
            let n = min(scratchLanes, count - start)
            let lanes = paddedToLanes(n)
            gatherStandardized(rows: rows + start, count: n, lanes: lanes)
            let y = members[m].forward(batch: batchX, lanes: lanes)
            sums += loss.evaluate(output: y, target: batchT, targets: targetCount, lanes: lanes, valid: n,
                                  gradient: nil, squaredErrorPerTarget: perTarget)
            start += n
        }
        return sums
    }

    /// Standardized inputs and targets of rows[0..<count] into batchX[In][lanes] and
    /// batchT[targets][lanes], zero in the padding lanes.
    func gatherStandardized(rows: UnsafePointer<Int32>, count: Int, lanes: Int) {
        let t = targetCount
        for l in 0..<lanes {
            guard l < count else {
                for i in 0..<In { batchX[i * lanes + l] = 0 }
                for j in 0..<t { batchT[j * lanes + l] = 0 }
                continue
            }
            let r = Int(rows[l])
            for i in 0..<In { batchX[i * lanes + l] = (rawInputs[r * In + i] - inMean[i]) * inInvStd[i] }
            for j in 0..<t { batchT[j * lanes + l] = (rawTargets[r * t + j] - outMean[j]) * outInvStd[j] }
        }
    }

    /// Fisher-Yates shuffle of rows[0..<count].
    func shuffle(_ rows: UnsafeMutablePointer<Int32>, count: Int, rng: inout RandomSource) {
        var i = count - 1
        while i > 0 {
            let j = rng.nextInt(below: i + 1)
            let kept = rows[i]; rows[i] = rows[j]; rows[j] = kept
            i -= 1
        }
    }

    /// Recomputes the statistics over the training rows and, after the first fit, re-expresses each
    /// member so it computes the same raw function: with x̃_old = (x̃_new · s_new + m_new − m_old) / s_old,
    /// the first layer's weights scale by s_new / s_old and its bias absorbs W (m_new − m_old) / s_old;
    /// the loss re-expresses the output layer for the target statistics. An input that was constant
    /// (std at the floor) contributed nothing, so its weights are left alone.
    func restandardize(train rows: UnsafePointer<Int32>, count n: Int) {
        let t = targetCount
        var mean = [Double](repeating: 0, count: In + t), m2 = mean
        for c in 0..<n {
            let r = Int(rows[c])
            for i in 0..<In { mean[i] += Double(rawInputs[r * In + i]) }
            for j in 0..<t { mean[In + j] += Double(rawTargets[r * t + j]) }
        }
        for f in 0..<(In + t) { mean[f] /= Double(n) }
        for c in 0..<n {
            let r = Int(rows[c])
            for i in 0..<In { let e = Double(rawInputs[r * In + i]) - mean[i]; m2[i] += e * e }
            for j in 0..<t { let e = Double(rawTargets[r * t + j]) - mean[In + j]; m2[In + j] += e * e }
        }
        let std = (0..<(In + t)).map { max(Float((m2[$0] / Double(n)).squareRoot()), Self.minStd) }

        if isStandardized {
            var ratio = [Float](repeating: 1, count: t), shift = [Float](repeating: 0, count: t)
            for j in 0..<t {
                ratio[j] = outStd[j] / std[In + j]
                shift[j] = (outMean[j] - Float(mean[In + j])) / std[In + j]
            }
            for net in members {
                let l1 = net.l1
                for i in 0..<In where inStd[i] > Self.minStd {
                    let offset = (Float(mean[i]) - inMean[i]) / inStd[i]
                    let scale = std[i] / inStd[i]
                    for o in 0..<Network.Layer1.outPad {
                        l1.b[o] += l1.weight(i, o) * offset
                        l1.setWeight(i, o, l1.weight(i, o) * scale)
                    }
                }
                ratio.withUnsafeBufferPointer { r in
                    shift.withUnsafeBufferPointer { s in
                        loss.restandardizeOutputs(net.l3, targets: t, ratio: r.baseAddress!, shift: s.baseAddress!)
                    }
                }
            }
        }
        let means = mean.map { Float($0) }
        means.withUnsafeBufferPointer { m in
            std.withUnsafeBufferPointer { s in
                setStandardization(inputMean: m.baseAddress!, inputStd: s.baseAddress!,
                                   targetMean: m.baseAddress! + In, targetStd: s.baseAddress! + In)
            }
        }
    }

    /// Sets the statistics the weights are expressed in (e.g. restoring a checkpoint together with the
    /// members' parameters); standard deviations are floored at 1e-6. O(In + targets).
    public func setStandardization(inputMean: UnsafePointer<Float>, inputStd: UnsafePointer<Float>,
                                   targetMean: UnsafePointer<Float>, targetStd: UnsafePointer<Float>) {
        for i in 0..<In {
            inMean[i] = inputMean[i]; inStd[i] = max(inputStd[i], Self.minStd); inInvStd[i] = 1 / inStd[i]
        }
        for j in 0..<targetCount {
            outMean[j] = targetMean[j]; outStd[j] = max(targetStd[j], Self.minStd); outInvStd[j] = 1 / outStd[j]
        }
        isStandardized = true
    }
}
