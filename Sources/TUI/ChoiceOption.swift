/// One answer of a ChoiceField, with the consequence of picking it.
public struct ChoiceOption: Equatable, Sendable {
    public var title: String
    public var detail: String

    public init(_ title: String, _ detail: String = "") {
        self.title = title
        self.detail = detail
    }
}
