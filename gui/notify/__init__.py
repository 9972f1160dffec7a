"""Desktop notifications for messages that arrive while their conversation is not in front.

No Tk here: `policy` decides which messages deserve one (pure), `wording` makes the title and
the text (sender, first line, shortened), `pacing` keeps a busy conversation to one
notification every few seconds (pure, with a clock passed in), `backend` shows them off the
Tk thread through the `desktop-notifier` library (imported lazily, in that thread), and
`center.Notices` ties these together for the window. A click becomes a `NotificationClicked`
event on the window's event bridge: only the main loop then touches Tk.
"""
