/// One page of a Wizard: a question and a form. The app side owns the model the steps fill.
public protocol WizardStep: AnyObject {
    /// The question this step asks ("How should this VM run?").
    var heading: String { get }
    var form: Form { get }
    /// Called when the step is shown, so it can reflect earlier answers.
    func enter()
    /// Called after every key, so fields can appear, disappear or change.
    func update()
    /// Checks the answers and stores them in the model; returns what to fix, or nil to go on.
    func commit() -> String?
}
