"""Emoji as small colour pictures, because Tk 8.6 cannot draw them with a font.

- `gui.emoji.segments` (pure): where the emoji are in a text, from the bundled set's list;
  `label_text` for widgets that can only draw text (lists, tabs, labels).
- `gui.emoji.images`: the pictures as Tk images, cut from the bundled sheets on first use.
- `gui.emoji.tktext`: pictures in Text widgets (the transcript, the message box), read
  back as their characters for copying, sending and finding.

The pictures are Twemoji (CC-BY 4.0), see `assets/emoji/README.md`.
"""

from gui.emoji.images import emoji_images
from gui.emoji.segments import PLACEHOLDER, emoji_set, has_pictures, label_text, split_emoji

__all__ = ["PLACEHOLDER", "emoji_images", "emoji_set", "has_pictures", "label_text", "split_emoji"]
