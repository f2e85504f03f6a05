// The prompt under the camera view always says what to do next (issue 15). It shows, in this order:
//   - an alert while a state lasts that the member has to change ("I can't see your face", "Paused"),
//   - else a short flash for a moment ("Back in view.", "Good. Release and rest."), then
//   - the step's standing instruction ("Go: corners up…", "Hold it…", "Rep 2 of 5: …").
// A flash never stays: after `ms` the instruction (or an alert that came meanwhile) is back. An alert can
// wait a moment before it shows (`delayMs`): a face lost for one frame is not worth "I can't see you".

export class Prompter {
  constructor(el, timers = window) {
    this.el = el;
    this.timers = timers;
    this.instructionText = "";
    this.alertText = null;
    this.flashText = null;
    this.flashTimer = null;
    this.alertTimer = null;
  }

  /** The standing instruction of the step as it is now; shown unless an alert or a flash is up. */
  instruction(text) {
    this.instructionText = text;
    this.render();
  }

  /** A state the member has to change: shown (after `delayMs`, if it still holds then) until cleared. */
  alert(text, delayMs = 0) {
    this.cancelPendingAlert();
    if (delayMs > 0) {
      this.alertTimer = this.timers.setTimeout(() => {
        this.alertTimer = null;
        this.alert(text);
      }, delayMs);
      return;
    }
    this.alertText = text;
    this.render();
  }

  /** The state is over. Returns whether its alert had been shown (a pending one is dropped). */
  clearAlert() {
    this.cancelPendingAlert();
    const shown = this.alertText !== null;
    this.alertText = null;
    this.render();
    return shown;
  }

  cancelPendingAlert() {
    if (this.alertTimer !== null) this.timers.clearTimeout(this.alertTimer);
    this.alertTimer = null;
  }

  /** Shown for `ms` milliseconds, then the prompt goes back to the instruction. */
  flash(text, ms) {
    if (this.flashTimer !== null) this.timers.clearTimeout(this.flashTimer);
    this.flashText = text;
    this.flashTimer = this.timers.setTimeout(() => {
      this.flashText = null;
      this.flashTimer = null;
      this.render();
    }, ms);
    this.render();
  }

  /** A new step or a fresh attempt: no alert, no flash, this instruction. */
  reset(text) {
    if (this.flashTimer !== null) this.timers.clearTimeout(this.flashTimer);
    this.flashTimer = null;
    this.flashText = null;
    this.cancelPendingAlert();
    this.alertText = null;
    this.instruction(text);
  }

  get text() {
    return this.alertText ?? this.flashText ?? this.instructionText;
  }

  render() {
    this.el.textContent = this.text;
  }
}
