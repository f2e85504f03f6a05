// Coaching cues, one line per kind (issue 15): a fault that comes back is counted on its line, not added
// again, both in the live cue list and in the end summary. A fault's key is its kind (a cue without a kind,
// such as "released too early", is keyed by its words); the line shows the latest words of that kind (the
// side in "your left side is lagging" can change) and, from the second time on, "× n".

const keyOf = (kind, text) => (kind ? `kind:${kind}` : `text:${text}`);

/** The lines for a list of faults ({kind, cue}): [{kind, cue, count}] in the order each kind first came. */
export function tally(faults) {
  const lines = new Map();
  for (const f of faults || []) {
    const cue = f.cue || f.kind || "";
    const key = keyOf(f.kind, cue);
    const line = lines.get(key);
    if (line) {
      line.count += 1;
      line.cue = cue;
    } else lines.set(key, { kind: f.kind || "", cue, count: 1 });
  }
  return [...lines.values()];
}

/** One line's words: the cue, and "× n" once it has come more than once. */
export function lineText(line) {
  return line.count > 1 ? `${line.cue} × ${line.count}` : line.cue;
}

/** The live cue list: the newest line on top, at most `max` lines. */
export class CueList {
  constructor(list, max = 5) {
    this.list = list;
    this.max = max;
  }

  clear() {
    this.list.replaceChildren();
  }

  add(text, level, kind) {
    const key = keyOf(kind, text);
    let li = [...this.list.children].find((e) => e.dataset.key === key);
    const count = li ? Number(li.dataset.count) + 1 : 1;
    if (!li) {
      li = document.createElement("li");
      li.dataset.key = key;
      if (kind) li.dataset.kind = kind;
    }
    li.className = `cue ${level}`;
    li.dataset.count = String(count);
    const words = document.createElement("span");
    words.textContent = text;
    const parts = [words];
    if (count > 1) {
      const times = document.createElement("span");
      times.className = "cue-count";
      times.textContent = ` × ${count}`;
      parts.push(times);
    }
    li.replaceChildren(...parts);
    this.list.prepend(li);
    while (this.list.children.length > this.max) this.list.lastChild.remove();
  }
}
