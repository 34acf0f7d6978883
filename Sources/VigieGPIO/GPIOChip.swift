internal import CGPIOD
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// An open GPIO chip (libgpiod's `gpiod_chip`): where lines are found and requested.
///
/// Not thread-safe by itself: `LibgpiodLines` serialises what it does with one. Lines requested from a chip are
/// freed with it, so the chip outlives them (`close()` releases them first).
final class GPIOChip {
    private let handle: OpaquePointer
    /// The character device, `/dev/gpiochipN`.
    let path: String
    /// The chip's label (`pinctrl-rp1`, `vigie-sim`).
    let label: String
    let lineCount: Int
    private var closed = false

    /// Opens the chip of `[gpio] chip`: by path, or the first `/dev/gpiochip*` whose label is the one given.
    init(_ chip: GPIOSettings.Chip) throws(GPIOError) {
        let opened: OpaquePointer?
        switch chip {
        case .path(let path):
            opened = gpiod_chip_open(path)
        case .label(let label):
            opened = gpiod_chip_open_by_label(label)
            // libgpiod leaves errno at ENOENT after scanning every chip without a match.
            if opened == nil && errno == ENOENT {
                throw GPIOError("open", reason: "no GPIO chip labelled '\(label)' (gpiodetect lists them)")
            }
        case .simulated:
            throw GPIOError("open", reason: "the simulated chip has no device: use SimulatedGPIO")
        }
        guard let opened else { throw GPIOError("open", reason: "\(chip): \(Self.reason(errno))") }
        handle = opened
        path = "/dev/" + String(cString: gpiod_chip_name(opened))
        label = String(cString: gpiod_chip_label(opened))
        lineCount = Int(gpiod_chip_num_lines(opened))
    }

    deinit { close() }

    /// Closes the chip, which releases every line still requested from it.
    func close() {
        guard !closed else { return }
        closed = true
        gpiod_chip_close(handle)
    }

    /// The offset of a line given by offset or name on this chip.
    func offset(of line: GPIOSettings.Line) throws(GPIOError) -> Int {
        switch line {
        case .offset(let offset):
            guard offset < lineCount else {
                throw GPIOError("find", line: line.description, reason: "\(path) (\(label)) has \(lineCount) lines")
            }
            return offset
        case .name(let name):
            guard let found = gpiod_chip_find_line(handle, name) else {
                let reason =
                    errno == ENOENT
                    ? "no line named '\(name)' on \(path) (\(label)); gpioinfo lists the names" : Self.reason(errno)
                throw GPIOError("find", line: name, reason: reason)
            }
            return Int(gpiod_line_offset(found))
        }
    }

    /// Requests `offset` as an input reporting both edges, timestamped by the kernel (`CLOCK_MONOTONIC`).
    func requestInput(
        _ offset: Int, activeLow: Bool, bias: GPIOSettings.Bias, consumer: String, name: String
    ) throws(GPIOError) -> GPIOLine {
        var flags: Int32 = activeLow ? cgpiod_flag_active_low : 0
        switch bias {
        case .pullUp: flags |= cgpiod_flag_bias_pull_up
        case .pullDown: flags |= cgpiod_flag_bias_pull_down
        case .disabled: flags |= cgpiod_flag_bias_disable
        case .asIs: break
        }
        return try request(offset, type: cgpiod_request_both_edges, flags: flags, initial: 0, consumer, name)
    }

    /// Requests `offset` as an output, driven low (LED off) from the start.
    func requestOutput(_ offset: Int, consumer: String, name: String) throws(GPIOError) -> GPIOLine {
        try request(offset, type: cgpiod_request_output, flags: 0, initial: 0, consumer, name)
    }

    private func request(
        _ offset: Int, type: Int32, flags: Int32, initial: Int32, _ consumer: String, _ name: String
    ) throws(GPIOError) -> GPIOLine {
        guard let line = gpiod_chip_get_line(handle, UInt32(offset)) else {
            throw GPIOError("request", line: name, reason: Self.reason(errno))
        }
        let result = consumer.withCString { consumer in
            var config = gpiod_line_request_config(consumer: consumer, request_type: type, flags: flags)
            return gpiod_line_request(line, &config, initial)
        }
        guard result == 0 else {
            let code = errno
            let reason =
                code == EBUSY
                ? "line \(offset) of \(path) is used by another process (vigied?): \(Self.reason(code))"
                : Self.reason(code)
            throw GPIOError("request", line: name, reason: reason)
        }
        return GPIOLine(line, offset: offset, name: name)
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// A requested line: its value, and its edges if it was requested for them. Valid until its chip closes or it is
/// released.
final class GPIOLine {
    fileprivate(set) var handle: OpaquePointer?
    let offset: Int
    /// How errors name it: the role or the line as configured.
    let name: String

    fileprivate init(_ handle: OpaquePointer, offset: Int, name: String) {
        self.handle = handle
        self.offset = offset
        self.name = name
    }

    /// The logical value (active-low applied).
    func value() throws(GPIOError) -> Bool {
        guard let handle else { throw GPIOError("read", line: name, reason: "released") }
        let value = gpiod_line_get_value(handle)
        guard value >= 0 else { throw GPIOError("read", line: name, reason: GPIOChip.reason(errno)) }
        return value == 1
    }

    func set(_ high: Bool) throws(GPIOError) {
        guard let handle else { throw GPIOError("set", line: name, reason: "released") }
        guard gpiod_line_set_value(handle, high ? 1 : 0) == 0 else {
            throw GPIOError("set", line: name, reason: GPIOChip.reason(errno))
        }
    }

    /// Gives the line back to the kernel; the handle stays the chip's, so this is safe to call more than once.
    func release() {
        guard let handle else { return }
        gpiod_line_release(handle)
        self.handle = nil
    }

    /// Reads the edges queued on this line (at most 16), without waiting if there are none queued when the kernel
    /// said some were. `active`: the line's logical level after the edge.
    ///
    /// libgpiod 1.6 reports the kernel's event id as it is, and the kernel (gpiolib-cdev, both edges) names it from
    /// the line's logical value read after the edge: with active-low, a press that takes the line low is a
    /// `RISING_EDGE` event. So the event type already is the logical level; GPIORigTests checks it on gpio-sim.
    func readEdges() throws(GPIOError) -> [(active: Bool, nanoseconds: UInt64)] {
        guard let handle else { throw GPIOError("read", line: name, reason: "released") }
        var events = [gpiod_line_event](repeating: gpiod_line_event(), count: 16)
        let count = events.withUnsafeMutableBufferPointer {
            gpiod_line_event_read_multiple(handle, $0.baseAddress, UInt32($0.count))
        }
        guard count >= 0 else { throw GPIOError("read", line: name, reason: GPIOChip.reason(errno)) }
        return events.prefix(Int(count)).map {
            (
                $0.event_type == cgpiod_event_rising,
                UInt64($0.ts.tv_sec) * 1_000_000_000 + UInt64($0.ts.tv_nsec)
            )
        }
    }
}

/// Waits on the edges of several lines at once (`gpiod_line_event_wait_bulk`).
enum GPIOWait {
    /// The lines among `lines` that have an edge queued, after waiting up to `nanoseconds`; empty on timeout.
    /// Retries on EINTR with what is left of the time.
    static func ready(_ lines: [GPIOLine], nanoseconds: UInt64) throws(GPIOError) -> [GPIOLine] {
        guard let bulk = cgpiod_bulk_new(), let events = cgpiod_bulk_new() else {
            throw GPIOError("wait", reason: "out of memory")
        }
        defer {
            free(bulk)
            free(events)
        }
        for line in lines {
            guard let handle = line.handle else { throw GPIOError("wait", line: line.name, reason: "released") }
            guard cgpiod_bulk_add(bulk, handle) == 0 else { throw GPIOError("wait", reason: "more than 64 lines") }
        }
        let deadline = MonotonicClock.nanoseconds() + nanoseconds
        while true {
            let left = deadline &- MonotonicClock.nanoseconds()
            let remaining = left > nanoseconds ? 0 : left
            var timeout = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
            cgpiod_bulk_clear(events)
            let result = gpiod_line_event_wait_bulk(bulk, &timeout, events)
            if result == 0 { return [] }
            if result < 0 {
                if errno == EINTR { continue }
                throw GPIOError("wait", reason: GPIOChip.reason(errno))
            }
            var ready: [GPIOLine] = []
            for index in 0..<cgpiod_bulk_count(events) {
                let handle = cgpiod_bulk_line(events, index)
                if let line = lines.first(where: { $0.handle == handle }) { ready.append(line) }
            }
            return ready
        }
    }
}
