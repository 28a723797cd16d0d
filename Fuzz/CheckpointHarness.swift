// libFuzzer target: the checkpoint loader (Sources/EdgeRuntime/Persistence/Checkpoint.swift,
// CheckpointCoding.swift): `Checkpoint.decode`, the typed reads of `CheckpointReader`, restoring a
// whole agent (motor and pendulum shapes) and `DataDirectory.summary()` (what `edge-ctl info` reads).
//
// Input: one flags byte, then the file. Flags bit 0: fix the header's payload length and CRC before
// loading, so mutations reach the payload parser instead of stopping at the CRC check (the loader
// must be safe on a payload that passes its CRC too: a file written by a buggy or foreign build).
// Bit 1: also load it through a data directory (file I/O, slower).
import EdgeCore
import EdgeIO
import EdgeLearning
import EdgeRuntime

/// Restores a checkpoint into a real agent of the rig's shapes (made once per process).
struct RestoreVisitor: SimTrainerVisitor {
    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> (CheckpointReader) -> String? {
        return { reader in
            do throws(FileError) {
                try trainer.agent.restore(from: reader)
                try trainer.agent.restorePolicy(from: reader)
                return nil
            } catch {
                return error.message
            }
        }
    }
}

nonisolated(unsafe) var restorers: [(CheckpointReader) -> String?] = []
nonisolated(unsafe) var scratch = ""

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    var options = TrainingOptions()
    options.evaluationEpisodes = 0
    for rig in [RigKind.motor, .pendulum] {
        // A learned reward model too, so its entries are restored as well.
        if let restore = try? withSimTrainer(rig: rig, knownReward: false, options: options,
                                             hyperparameters: Hyperparameters(), RestoreVisitor()) {
            restorers.append(restore)
        }
    }
    require(restorers.count == 2, "cannot build the agents")
    scratch = scratchDirectory("checkpoint")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let flags = data[0]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if flags & 1 == 1 && bytes.count >= 24 {
        putU64(UInt64(bytes.count - 24), into: &bytes, at: 12)
        putU32(crc32(bytes[24...]), into: &bytes, at: 20)
    }
    let path = "fuzz/checkpoint.bin"
    do throws(FileError) {
        let checkpoint = try Checkpoint.decode(bytes, path: path)
        // Decoded: it must re-encode to a file that decodes to the same entries.
        let again = try Checkpoint.decode(checkpoint.encoded(), path: path)
        require(again.names == checkpoint.names, "re-encoded checkpoint has other names")
        let reader = CheckpointReader(checkpoint, path: path)
        for name in checkpoint.names {
            switch checkpoint.get(name) {
            case .floats(let v)?: _ = try? reader.floats(name, count: v.count)
            case .doubles?: _ = try? reader.doubles(name)
            case .integers?: _ = try? reader.integer(name); _ = try? reader.integers(name)
            case nil: require(false, "entry \(name) listed but not found")
            }
        }
        for restore in restorers {
            if let message = restore(reader) { requireClearBinaryError(message, naming: path) }
        }
    } catch {
        requireClearBinaryError(error.message, naming: path)
    }
    if flags & 2 == 2 {
        let directory = DataDirectory(path: scratch)
        writeFile(directory.checkpointPath, bytes)
        do throws(FileError) {
            _ = try directory.summary()
        } catch {
            requireClearBinaryError(error.message, naming: directory.checkpointPath)
        }
    }
    return 0
}
