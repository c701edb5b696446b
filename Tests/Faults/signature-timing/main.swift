// Does the signature comparison take the same time wherever a wrong signature differs? Times
// `WebhookVerifier.constantTimeEquals` against a 32-byte MAC with candidates differing in the first,
// middle and last byte (and equal), beside an early-exit comparison as the positive control: the
// measurement must show the control's leak, else it could not show ours either. Rounds interleave
// the candidates in random order; per candidate the median of the rounds is kept.
// Usage: signature-timing [rounds, default 41] [calls per round, default 200000]
// Prints one line per comparison and a final `verdict:` line; exits 1 when the verifier's spread
// exceeds 10 % or the control shows no leak.
import BillingCore
import Foundation

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let rounds = arguments.first ?? 41
let calls = arguments.dropFirst().first ?? 200_000

let expected = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
func differing(at index: Int) -> [UInt8] {
    var bytes = expected
    bytes[index] ^= 0x5A
    return bytes
}
let candidates: [(String, [UInt8])] = [
    ("first byte", differing(at: 0)), ("middle byte", differing(at: 15)), ("last byte", differing(at: 31)), ("equal", expected),
]

/// What a broken implementation does: return at the first difference.
@inline(never) func earlyExitEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    for index in a.indices where a[index] != b[index] { return false }
    return true
}

/// The timing loop is left unoptimized (the comparisons it calls are not): in a release build the
/// optimizer otherwise hoists the call with its unchanging arguments out of the loop and times nothing.
@_optimize(none) func nanoseconds(_ compare: ([UInt8], [UInt8]) -> Bool, _ candidate: [UInt8]) -> Double {
    var matches = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<calls where compare(candidate, expected) { matches += 1 }
    let elapsed = DispatchTime.now().uptimeNanoseconds - start
    if matches == -1 { print(matches) }
    return Double(elapsed) / Double(calls)
}

func medians(_ compare: ([UInt8], [UInt8]) -> Bool) -> [Double] {
    var samples = Array(repeating: [Double](), count: candidates.count)
    for _ in 0..<rounds {
        for index in candidates.indices.shuffled() { samples[index].append(nanoseconds(compare, candidates[index].1)) }
    }
    return samples.map { $0.sorted()[$0.count / 2] }
}

func spread(_ values: [Double]) -> Double { values.max()! / values.min()! - 1 }

let verifier = medians { WebhookVerifier.constantTimeEquals($0, $1) }
let control = medians { earlyExitEquals($0, $1) }
for (index, (name, _)) in candidates.enumerated() {
    print(
        name.padding(toLength: 12, withPad: " ", startingAt: 0)
            + String(format: " constant-time %7.2f ns   early-exit control %7.2f ns", verifier[index], control[index]))
}
let verifierSpread = spread(Array(verifier.prefix(3)))
let controlSpread = spread(Array(control.prefix(3)))
let ok = verifierSpread < 0.10 && controlSpread > 0.5
print(
    String(
        format: "verdict: %@ (spread over the position of the difference: constant-time %.1f %%, early-exit control %.1f %%)",
        ok ? "ok" : "FAILED", verifierSpread * 100, controlSpread * 100))
exit(ok ? 0 : 1)
