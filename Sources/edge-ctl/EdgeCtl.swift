import ArgumentParser

/// The host command line. One subcommand per file; `train` is the default, so `edge-ctl --sim` trains
/// on the simulated board.
@main
struct EdgeCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-ctl",
        abstract: "A learning controller for ARM Linux boards: learns a dynamics model on the device and improves its policy with PPO in imagination.",
        subcommands: [Train.self, Eval.self, Info.self, Export.self, Boards.self, Run.self, Analyze.self, Compare.self, Bench.self],
        defaultSubcommand: Train.self
    )
}
