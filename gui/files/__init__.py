"""The window's side of file transfers (issue 16): sending, offers, progress, inline images.

`gui.files.sharing.FileSharing` attaches the engine (`net.files.transfers.FileTransfers`)
to each client the controller makes and shows its events in the conversations; the other
modules each do one job (pure rules and wording, the cards in a transcript, the input
box's part, the clipboard, the system's opener).
"""
