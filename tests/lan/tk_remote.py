"""Read a running Tk app's widgets from outside, over its X display (Tk's `send`).

The GUI test drives the window with real input (xdotool: typing, clicking); to *read* what
the window shows (the rows of the chat list, the chat text, where a row is on the screen) it
asks the app's Tk through `send`, the way a screen reader asks an accessible app. Nothing is
changed through this channel: only read-only commands (`winfo`, `cget`, `get`, ...) are sent.

Run with DISPLAY set; each line of standard input is a JSON list of Tcl words to evaluate
here (``["winfo", "interps"]``) or, for ``["send", APP, word, ...]``, in app APP (the words
are quoted as one Tcl list, so spaces and Chinese text arrive intact); ``sendlist`` is
``send`` with the answer split as a Tcl list. Each answer is one
JSON line: ``{"ok": result}`` or ``{"error": message}``. The first line printed is
``{"ready": OWN_APP_NAME}``.
"""

from __future__ import annotations

import json
import sys
import tkinter as tk


def to_json(value: object) -> object:
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value if isinstance(value, int | float | str) else str(value)


def evaluate(root: tk.Tk, words: list[str]) -> object:
    """`send APP ...` answers a string; `sendlist APP ...` the same split as a Tcl list."""
    if len(words) >= 3 and words[0] in ("send", "sendlist"):
        script = root.tk.call("list", *words[2:])
        result = root.tk.call("send", words[1], script)
        return root.tk.splitlist(result) if words[0] == "sendlist" else result
    return root.tk.call(*words)


def main() -> int:
    root = tk.Tk()
    root.withdraw()
    print(json.dumps({"ready": root.tk.call("tk", "appname")}), flush=True)
    for line in sys.stdin:
        try:
            answer = {"ok": to_json(evaluate(root, json.loads(line)))}
        except (tk.TclError, ValueError, TypeError) as exc:
            answer = {"error": str(exc)}
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    root.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
