import EdgeLearning
import Testing

@Suite("Hyperparameters")
struct PPOHyperparameterTests {
    @Test("defaults are the prototype's recipe")
    func defaults() {
        let h = Hyperparameters()
        #expect(h.gamma == 0.99 && h.gaeLambda == 0.95 && h.clipRange == 0.2 && h.epochs == 5)
        #expect(h.minibatchSize == 1024 && h.policyLearningRate == 1e-3 && h.valueLearningRate == 1e-3)
        #expect(h.maxGradNorm == 1 && h.entropyCoefficient == 0 && h.rewardScale == 0.1)
        #expect(h.rollouts == 160 && h.horizon == 25 && h.ppoIterationsPerEpisode == 20)
        #expect(h.imaginedStepsPerIteration == 4_000)
    }

    @Test("--set overrides parse floats, ints, bools, infinity and nested model keys")
    func commandLineOverrides() throws {
        var h = Hyperparameters()
        try h.apply(override: "gamma=0.95")
        try h.apply(override: " horizon = 50 ")
        try h.apply(override: "normalizeAdvantages=false")
        try h.apply(override: "disagreementThreshold=inf")
        try h.apply(override: "models.ensembleSize=7")
        try h.apply(override: "models.dynamicsFit.learningRate=3e-4")
        #expect(h.gamma == 0.95 && h.horizon == 50 && !h.normalizeAdvantages)
        #expect(h.disagreementThreshold == .infinity)
        #expect(h.models.ensembleSize == 7 && h.models.dynamicsFit.learningRate == 3e-4)
        #expect(h.models.rewardFit.learningRate == 1e-3)
    }

    @Test("a config file applies every line, ignores comments and blank lines, and names the line of an unknown key")
    func configFile() {
        var h = Hyperparameters()
        let text = """
            # learning settings
            epochs = 3      # fewer passes

            clipRange=0.1
            gama = 0.9
            horizon = 40
            """
        #expect(throws: HyperparameterError.unknownKey("gama", at: OverrideLocation(source: "run.conf", line: 5))) {
            try h.apply(configText: text, source: "run.conf")
        }
        #expect(h.epochs == 3 && h.clipRange == 0.1)
        #expect(h.horizon == 25)  // stops at the bad line
        do {
            try h.apply(configText: text, source: "run.conf")
        } catch {
            #expect(error.message == "run.conf line 5: unknown hyperparameter 'gama'; did you mean 'gamma'?")
        }
        // Nothing close: the message lists every key.
        let far = HyperparameterError.unknownKey("speed", at: OverrideLocation(source: "--set", line: 0)).message
        #expect(far.hasPrefix("--set: unknown hyperparameter 'speed'; known keys: rollouts, horizon,"))
        #expect(far.contains("gamma") && far.contains("models.dynamicsFit.batchSize"))
        let nested = HyperparameterError.unknownKey("models.dynamicFit.batchSize",
                                                    at: OverrideLocation(source: "--set", line: 0)).message
        #expect(nested.hasSuffix("did you mean 'models.dynamicsFit.batchSize'?"))
    }

    @Test("bad values and missing '=' are rejected with the key, the place and what fits")
    func invalidValues() {
        var h = Hyperparameters()
        #expect(throws: HyperparameterError.invalidValue(key: "gamma", value: "1.5", expected: "a number in [0, 1]",
                                                         at: OverrideLocation(source: "--set", line: 0))) {
            try h.apply(override: "gamma=1.5")
        }
        #expect(throws: HyperparameterError.invalidValue(key: "epochs", value: "five", expected: "an integer in [1, 1000]",
                                                         at: OverrideLocation(source: "--set", line: 0))) {
            try h.apply(override: "epochs=five")
        }
        #expect(throws: HyperparameterError.missingEquals("horizon 40", at: OverrideLocation(source: "a.conf", line: 2))) {
            try h.apply(configText: "rollouts = 32\nhorizon 40\n", source: "a.conf")
        }
        #expect(h.gamma == 0.99 && h.epochs == 5 && h.rollouts == 32)
        #expect(HyperparameterError.invalidValue(key: "gamma", value: "1.5", expected: "a number in [0, 1]",
                                                 at: OverrideLocation(source: "--set", line: 0)).message
                == "--set: '1.5' is not a valid value for 'gamma'; expected a number in [0, 1]")
    }

    @Test("configText writes every key and reads back to the same values")
    func configTextRoundTrips() throws {
        var h = Hyperparameters()
        h.gamma = 0.97; h.minibatchSize = 512; h.normalizeAdvantages = false; h.initialLogStd = -1.25
        h.models.maxLanes = 512
        let text = h.configText()
        #expect(text.contains("gamma = 0.97\n") && text.contains("models.maxLanes = 512\n"))
        #expect(text.contains("disagreementThreshold = inf\n"))
        var back = Hyperparameters()
        try back.apply(configText: text, source: "written")
        #expect(back.configText() == text)
        #expect(back.gamma == 0.97 && back.minibatchSize == 512 && !back.normalizeAdvantages)
        #expect(back.initialLogStd == -1.25 && back.models.maxLanes == 512)
    }
}
