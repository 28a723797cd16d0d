import ArgumentParser

/// Placeholder until the learning issue lands: runs the core self-check.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Learn a controller (default command).")

    @Flag(help: "Use the simulated board (short for --board sim).")
    var sim = false

    func run() throws {
        print("edge-ctl train: learning lands with the learning issue; nothing to do yet.")
    }
}
