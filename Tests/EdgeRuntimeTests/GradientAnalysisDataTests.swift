import EdgeCore
import EdgeLearning
import EdgeRuntime
import Foundation
import Testing

/// Every number of a diagnostics row, as bit patterns (NaN compares equal to NaN).
func rowBits(_ r: HorizonDiagnostics) -> [UInt64] {
    func bits(_ e: EstimatorStatistics) -> [UInt64] { [e.gradNorm, e.variance, e.snr, e.cosine].map(\.bitPattern) }
    return [UInt64(r.horizon), r.imaginedReturn.bitPattern] + bits(r.pathwise) + bits(r.likelihoodRatio)
        + [r.jacobianNorm, r.jacobianNormClosedLoop, r.jacobianNormRMS, r.jacobianNormClosedLoopRMS].map(\.bitPattern)
}

@Suite("Gradient analysis of a data directory")
struct GradientAnalysisDataTests {
    @Test("analyze --data on a trained run gives the same table, number for number, as analyzing the in-memory trainer at the same state (trained and initial policy), and changes no byte of the directory, a torn tail included")
    func dataDirectoryMatchesInMemory() throws {
        for policy in AnalyzedPolicy.allCases {
            try withTemporaryDirectory { root in
                let dir = root + "/run"
                var options = TrainingOptions()
                options.seed = 21
                options.maxRealSteps = 400
                options.evaluationEpisodes = 2
                options.dataDirectory = dir
                var h = Hyperparameters()
                h.ppoIterationsPerEpisode = 2
                var analysis = GradientAnalysisOptions()
                analysis.policy = policy
                analysis.diagnostics.horizons = [1, 5, 20]
                analysis.diagnostics.starts = 16
                analysis.diagnostics.batches = 4
                analysis.diagnostics.seed = 5
                // Trains into `dir` (checkpoint after the last round), then analyzes the trainer in memory.
                let inMemory = try analyzeGradientsOnSimulator(rig: .pendulum, options: options, hyperparameters: h,
                                                               analysis: analysis, observer: CurveRecorder())
                let data = DataDirectory(path: dir)
                let log = try #require(FileHandle(forUpdatingAtPath: data.transitionsPath))
                log.seekToEndOfFile()
                log.write(Data([1, 2, 3, 4, 5]))  // a torn record header: must be skipped, not truncated
                try log.close()
                let before = [try Data(contentsOf: URL(fileURLWithPath: data.transitionsPath)),
                              try Data(contentsOf: URL(fileURLWithPath: data.checkpointPath))]
                let entries = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()

                let fromData = try analyzeGradients(directory: dir, hyperparameters: h, analysis: analysis)

                #expect(fromData.dataDirectory == dir && fromData.training.rig == .pendulum)
                #expect(fromData.training.realSteps == 400 && fromData.training.recoveredRecords == 400)
                #expect(fromData.training.droppedTailBytes == 5)
                #expect(fromData.training.evaluationMean == inMemory.training.evaluationMean)
                #expect(fromData.report.rows.count == 3)
                #expect(fromData.report.rows.map(rowBits) == inMemory.report.rows.map(rowBits))
                #expect(fromData.report.table == inMemory.report.table)
                #expect(fromData.report.rows.allSatisfy { $0.pathwise.gradNorm > 0 && $0.likelihoodRatio.gradNorm > 0 })
                #expect([try Data(contentsOf: URL(fileURLWithPath: data.transitionsPath)),
                         try Data(contentsOf: URL(fileURLWithPath: data.checkpointPath))] == before)
                #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == entries)
            }
        }
    }

    @Test("analyze --data names the problem: a directory without a checkpoint, and one that does not exist")
    func dataDirectoryErrors() throws {
        try withTemporaryDirectory { root in
            var options = TrainingOptions()
            options.seed = 22
            options.maxRealSteps = 200  // one random episode: the log is synced before the first checkpoint
            options.iterations = 1
            options.evaluationEpisodes = 1
            options.dataDirectory = root + "/run"
            _ = try trainOnSimulator(rig: .pendulum, knownReward: false, options: options,
                                     hyperparameters: Hyperparameters(), observer: CurveRecorder())
            try FileManager.default.removeItem(atPath: root + "/run/checkpoint.bin")
            do throws(GradientAnalysisError) {
                _ = try analyzeGradients(directory: root + "/run", hyperparameters: Hyperparameters(),
                                         analysis: GradientAnalysisOptions())
                Issue.record("a run without a checkpoint must be refused")
            } catch {
                #expect(error.message.contains("no checkpoint"), "\(error.message)")
            }
            do throws(GradientAnalysisError) {
                _ = try analyzeGradients(directory: root + "/missing", hyperparameters: Hyperparameters(),
                                         analysis: GradientAnalysisOptions())
                Issue.record("a missing directory must be refused")
            } catch {
                #expect(error.message.contains(root + "/missing"), "\(error.message)")
            }
            #expect(!FileManager.default.fileExists(atPath: root + "/missing"))
        }
    }
}
