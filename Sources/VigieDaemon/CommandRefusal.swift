/// Why a part of the unit did not run a command: the reply's error `code` and a message for the operator.
struct CommandRefusal: Error, Sendable {
    var code: String
    var message: String
}
