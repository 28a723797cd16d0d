import EdgeCore
import EdgeLearning
import Foundation
import Testing

@Suite("Dynamics ensemble fitted on Pendulum-v1")
struct DynamicsFitTests {
    @Test("from 1,000 random-action transitions every member's one-step holdout RMSE is below 2% of each observation's std")
    func pendulumOneStepAccuracy() {
        let buffer = PendulumBuffer(capacity: 1_000)
        Pendulum.randomTransitions(1_000, seed: 1, into: buffer)
        let (model, report) = fitPendulumDynamics(buffer, seed: 2)
        print("pendulum fit: " + report.summary)
        let batch = PendulumBatch(holdoutOf: buffer)
        let std = (0..<3).map { Pendulum.observationStd(buffer, $0) }
        for m in 0..<model.memberCount {
            let rmse = model.rmse(member: m, on: batch)
            print("member \(m) holdout RMSE / std: " + (0..<3).map { formatFloat(rmse[$0] / std[$0], digits: 3) }
                .joined(separator: " "))
            for d in 0..<3 { #expect(rmse[d] < 0.02 * std[d], "member \(m) dimension \(d)") }
        }
        // The report's per-dimension RMSE is the same quantity over all members.
        for d in 0..<3 {
            let pooled = ((0..<model.memberCount).map { pow(model.rmse(member: $0, on: batch)[d], 2) }
                .reduce(0, +) / Double(model.memberCount)).squareRoot()
            #expect(abs(report.holdoutRMSE[d] - pooled) <= 1e-3 * pooled + 1e-6)
        }
        #expect(report.holdoutCount == buffer.holdoutCount && report.trainCount == buffer.trainCount)
        #expect(report.holdoutMSE < 0.2 * report.initialHoldoutMSE)
    }

    @Test("ensemble disagreement is several times larger far from the data than on held-out data")
    func disagreementGrowsOffData() {
        let buffer = PendulumBuffer(capacity: 1_000)
        Pendulum.randomTransitions(1_000, seed: 1, into: buffer)
        let (model, _) = fitPendulumDynamics(buffer, seed: 2)
        let near = PendulumBatch(holdoutOf: buffer)
        // Far: the same angles and torques, spinning 10 rad/s faster than anything in the data.
        var far = near
        let fastest = max(buffer.observationHigh(2), -buffer.observationLow(2))
        for l in 0..<far.count { far.obs[2 * far.lanes + l] = (far.obs[2 * far.lanes + l] < 0 ? -1 : 1) * (fastest + 10) }
        func meanDisagreement(_ batch: PendulumBatch) -> Double {
            var out = [Float](repeating: 0, count: batch.lanes)
            model.disagreement(obs: batch.obs, action: batch.action, lanes: batch.lanes, into: &out)
            return out[0..<batch.count].reduce(0) { $0 + Double($1) } / Double(batch.count)
        }
        let onData = meanDisagreement(near), offData = meanDisagreement(far)
        print("disagreement (state-change std units): on holdout " + formatFloat(onData, digits: 3)
            + ", 10 rad/s beyond the data " + formatFloat(offData, digits: 3))
        #expect(offData > 5 * onData)
        #expect(onData < 0.05)
    }

    @Test("early stopping ends a fit long before a huge step limit, and the step limit ends one without patience")
    func earlyStoppingStops() {
        let buffer = PendulumBuffer(capacity: 600)
        Pendulum.randomTransitions(600, seed: 3, into: buffer)
        var generous = ModelHyperparameters()
        generous.dynamicsFit.maxStepsPerFit = 1_000_000
        let (_, stopped) = fitPendulumDynamics(buffer, seed: 4, hyperparameters: generous)
        print("early stop: " + stopped.summary)
        #expect(stopped.stoppedEarly)
        #expect(stopped.steps < 5_000)
        #expect(stopped.epochs > generous.dynamicsFit.patienceEpochs)
        // Steps per epoch: ⌈train / batch⌉.
        let perEpoch = (buffer.trainCount + 63) / 64
        #expect(stopped.steps == stopped.epochs * perEpoch)
        // Members stop separately: each step trains one to five of them.
        #expect(stopped.memberSteps <= 5 * stopped.steps && stopped.memberSteps > stopped.steps)

        var impatient = ModelHyperparameters()
        impatient.dynamicsFit.maxStepsPerFit = 100
        impatient.dynamicsFit.patienceEpochs = 10_000
        let (_, limited) = fitPendulumDynamics(buffer, seed: 4, hyperparameters: impatient)
        #expect(!limited.stoppedEarly)
        #expect(limited.steps == 100 && limited.memberSteps == 500)
    }

    @Test("an incremental refit from the previous weights needs far fewer steps than a fit from scratch for the same holdout loss")
    func incrementalRefitIsFaster() {
        // As in the learning loop: 800 transitions fitted, one more episode of 200 arrives.
        let buffer = PendulumBuffer(capacity: 1_000)
        Pendulum.randomTransitions(800, seed: 5, into: buffer)
        var rng = RandomSource(seed: 6)
        let warm = PendulumDynamics(rng: &rng)
        _ = warm.fit(buffer: buffer, rng: &rng)
        let more = PendulumBuffer(capacity: 1_000)
        Pendulum.randomTransitions(1_000, seed: 5, into: more)
        for r in 800..<1_000 {
            buffer.append(obs: (0..<3).map { more.observation(r, $0) }, action: [more.action(r, 0)],
                          reward: more.reward(r), nextObs: (0..<3).map { more.nextObservation(r, $0) })
        }
        let refit = warm.fit(buffer: buffer, rng: &rng)
        let (_, scratch) = fitPendulumDynamics(buffer, seed: 6)
        print("warm refit:   " + refit.summary)
        print("from scratch: " + scratch.summary)
        #expect(refit.steps * 3 < scratch.steps * 2)
        #expect(refit.holdoutLoss < scratch.holdoutLoss + 0.05)
        #expect(refit.holdoutMSE < 1.3 * scratch.holdoutMSE)
        // The carried-over weights start the refit close to where the fit from scratch ends.
        #expect(refit.initialHoldoutMSE < 2 * scratch.holdoutMSE)
    }

    @Test("re-standardizing at a refit keeps the function the carried-over weights compute")
    func restandardizingPreservesPredictions() {
        let buffer = PendulumBuffer(capacity: 1_000)
        Pendulum.randomTransitions(400, seed: 8, into: buffer)
        var rng = RandomSource(seed: 9)
        let model = PendulumDynamics(rng: &rng)
        _ = model.fit(buffer: buffer, rng: &rng)
        let oldStd = (0..<3).map { model.networks.targetStd[$0] }
        // New data from a faster-spinning regime moves the statistics a lot.
        let extra = PendulumBuffer(capacity: 600)
        Pendulum.randomTransitions(600, seed: 10, into: extra)
        for r in 0..<extra.count {
            buffer.append(obs: (0..<3).map { extra.observation(r, $0) * ($0 == 2 ? 2 : 1) }, action: [extra.action(r, 0)],
                          reward: extra.reward(r), nextObs: (0..<3).map { extra.nextObservation(r, $0) * ($0 == 2 ? 2 : 1) })
        }
        let batch = PendulumBatch(holdoutOf: buffer)
        let before = (0..<model.memberCount).map { model.rmse(member: $0, on: batch) }
        let refit = model.fit(buffer: buffer, rng: &rng)
        let newStd = (0..<3).map { Double(model.networks.targetStd[$0]) }
        #expect(abs(Double(oldStd[2]) / newStd[2] - 1) > 0.2)
        var expected = 0.0
        for rmse in before { for d in 0..<3 { expected += rmse[d] * rmse[d] / (newStd[d] * newStd[d]) / 3 } }
        expected /= Double(model.memberCount)
        print("baseline after re-standardizing: report " + formatFloat(refit.initialHoldoutMSE, digits: 5)
            + ", old weights' predictions " + formatFloat(expected, digits: 5))
        #expect(abs(refit.initialHoldoutMSE - expected) < 1e-3 * expected)
    }

    @Test("fitting is deterministic for a seed and differs between seeds")
    func deterministicForASeed() {
        let buffer = PendulumBuffer(capacity: 400)
        Pendulum.randomTransitions(400, seed: 11, into: buffer)
        let (a, reportA) = fitPendulumDynamics(buffer, seed: 12)
        let (b, reportB) = fitPendulumDynamics(buffer, seed: 12)
        let (c, reportC) = fitPendulumDynamics(buffer, seed: 13)
        #expect(reportA.steps == reportB.steps && reportA.holdoutLoss == reportB.holdoutLoss)
        #expect(reportA.trainLoss == reportB.trainLoss && reportA.holdoutRMSE == reportB.holdoutRMSE)
        #expect(reportA.holdoutLoss != reportC.holdoutLoss)
        let batch = PendulumBatch(holdoutOf: buffer)
        func predictions(_ model: PendulumDynamics) -> [Float] {
            var mean = [Float](repeating: 0, count: 3 * batch.lanes), std = mean
            var all: [Float] = []
            for m in 0..<model.memberCount {
                model.predict(member: m, obs: batch.obs, action: batch.action, lanes: batch.lanes,
                              nextObsMean: &mean, nextObsStd: &std)
                all += mean + std
            }
            return all
        }
        #expect(predictions(a) == predictions(b))
        #expect(predictions(a) != predictions(c))
    }

    @Test("a fresh ensemble given a fitted one's parameters and standardization predicts bit-identically")
    func restoredEnsemblePredictsTheSame() {
        let buffer = PendulumBuffer(capacity: 300)
        Pendulum.randomTransitions(300, seed: 14, into: buffer)
        let (fitted, _) = fitPendulumDynamics(buffer, seed: 15)
        var rng = RandomSource(seed: 99)
        let restored = PendulumDynamics(rng: &rng)
        for m in 0..<fitted.memberCount {
            restored.networks.members[m].parameters.copyValues(from: fitted.networks.members[m].parameters)
        }
        let source = fitted.networks
        restored.networks.setStandardization(inputMean: source.inputMean, inputStd: source.inputStd,
                                             targetMean: source.targetMean, targetStd: source.targetStd)
        #expect(restored.networks.isStandardized)
        let batch = PendulumBatch(holdoutOf: buffer)
        var a = [Float](repeating: 0, count: 3 * batch.lanes), b = a, sa = a, sb = a
        for m in 0..<fitted.memberCount {
            fitted.predict(member: m, obs: batch.obs, action: batch.action, lanes: batch.lanes, nextObsMean: &a, nextObsStd: &sa)
            restored.predict(member: m, obs: batch.obs, action: batch.action, lanes: batch.lanes, nextObsMean: &b, nextObsStd: &sb)
            #expect(a == b && sa == sb)
        }
    }

    @Test("a buffer too small to hold anything out still fits, judging early stopping on the training rows")
    func fitsWithoutHoldout() {
        let buffer = PendulumBuffer(capacity: 4)
        Pendulum.randomTransitions(4, seed: 16, into: buffer)
        #expect(buffer.holdoutCount == 0 && buffer.trainCount == 4)
        let (_, report) = fitPendulumDynamics(buffer, seed: 17)
        #expect(report.holdoutCount == 0 && report.steps > 0)
        #expect(report.holdoutLoss == report.trainLoss && report.holdoutLoss < report.initialHoldoutLoss)
    }
}
