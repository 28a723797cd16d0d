import ArgumentParser

/// Placeholder: the hardware helper fills this in (list boards, check a board file).
struct Boards: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List board files or check one.")
    func run() throws { print("no boards yet") }
}
