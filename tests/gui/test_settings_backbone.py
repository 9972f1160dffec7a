"""The backbone setting: checked the same way in the settings file and the Settings dialog."""

from __future__ import annotations

import json

import pytest

from gui import settings as st
from gui.settings import Settings, SettingsStore
from tests.gui.driving import type_into


def test_good_backbones_are_kept_as_a_list_of_urls():
    assert st.check_backbone("") == ""
    assert st.check_backbone(" 10.0.1.5:4222, nats://10.0.2.5:4222  tls://n3.example:4443 ") == (
        "nats://10.0.1.5:4222,nats://10.0.2.5:4222,tls://n3.example:4443"
    )
    assert st.check_backbone("nats://[fd00::5]:4222") == "nats://[fd00::5]:4222"


@pytest.mark.parametrize(
    "text",
    ["http://10.0.1.5:4222", "nats://:4222", "nats://10.0.1.5:99999", "nats://10.0.1.5:4222/x",
     "nats://10.0.1.5:0", "nats://a:b", ",".join(f"n{i}:4222" for i in range(17)), "n:4222," * 200],
)  # fmt: skip
def test_bad_backbones_are_refused_with_a_sentence(text):
    with pytest.raises(st.SettingError) as refused:
        st.check_backbone(text)
    assert "NATS" in str(refused.value)


def test_a_bad_backbone_in_the_file_falls_back_alone(tmp_path):
    store = SettingsStore(tmp_path)
    network = {"backbone": "http://10.0.1.5", "default_port": 47900}
    store.path.write_text(json.dumps({"network": network}), encoding="utf-8")
    loaded = store.load()
    assert loaded.settings.backbone == "" and loaded.settings.default_port == 47900
    assert "network.backbone" in loaded.notice()
    store.path.write_text(json.dumps({"network": {"backbone": "10.0.1.5:4222 10.0.2.5"}}), encoding="utf-8")
    assert store.load().settings.backbone == "nats://10.0.1.5:4222,nats://10.0.2.5"


def test_the_dialog_edits_the_backbone_and_refuses_a_bad_one(make_app):
    app = make_app(nickname="li")
    dialog = app.open_settings()
    type_into(dialog.backbone_entry, "nats://10.0.1.5:4222,http://oops")
    dialog.ok_button.invoke()
    assert dialog.winfo_exists()
    assert "http://oops" in dialog.error_label.cget("text")
    entry = dialog.backbone_entry
    make_app.wait(lambda: entry.focus_get() is entry, timeout=5, message="the cursor put where the fault is")
    assert entry.selection_present()
    assert app.settings.backbone == Settings().backbone
    dialog.backbone_entry.delete(0, "end")
    type_into(dialog.backbone_entry, "10.0.1.5:4222, 10.0.2.5:4222")
    dialog.ok_button.invoke()
    assert not dialog.winfo_exists()
    assert app.settings.backbone == "nats://10.0.1.5:4222,nats://10.0.2.5:4222"
    again = app.open_settings()
    assert again.backbone_var.get() == "nats://10.0.1.5:4222, nats://10.0.2.5:4222"
    again.cancel_button.invoke()
