"""The fake's request validator must be able to fail: each rule has a rejecting case."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.spec import decode_params, load_spec
from tests.fakes.validation import validate, validate_request


def errors(method: str, **params: Any) -> list[str]:
    return validate(method, params).errors


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


def test_spec_copy_is_self_contained() -> None:
    spec = load_spec()
    assert spec.version.startswith("Bot API ")
    assert spec.method_name("sendmessage") == "sendMessage"
    assert spec.methods["sendMessage"]["params"]["text"]["length"] == [1, 4096]
    assert "InlineKeyboardButton" in spec.types


def test_valid_message_passes() -> None:
    result = validate(
        "sendMessage",
        {
            "chat_id": 1,
            "text": "<b>Hi</b>",
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "reply_markup": keyboard({"text": "Yes", "callback_data": "vote:1:yes"}),
        },
    )
    assert result.ok, result.errors
    assert result.warnings == []


def test_unknown_method_and_missing_required() -> None:
    assert errors("sendMesage", chat_id=1, text="x")[0].startswith("Not Found")
    assert errors("sendMessage", text="x") == ["Bad Request: chat_id is empty"]
    assert errors("sendMessage", chat_id=1) == ["Bad Request: message text is empty"]


def test_unknown_param_is_only_a_warning() -> None:
    warnings: list[str] = []
    assert validate_request("sendMessage", {"chat_id": 1, "text": "x", "foo": 1}, warnings) == []
    assert len(warnings) == 1
    assert '"foo"' in warnings[0]


def test_text_length_counts_utf16_after_parsing() -> None:
    assert errors("sendMessage", chat_id=1, text="a" * 4096) == []
    assert errors("sendMessage", chat_id=1, text="a" * 4097) == [
        "Bad Request: message is too long"
    ]
    assert errors("sendMessage", chat_id=1, text="😀" * 2048) == []
    assert errors("sendMessage", chat_id=1, text="😀" * 2048 + "a") == [
        "Bad Request: message is too long"
    ]
    tagged = "<b>" + "a" * 4096 + "</b>"  # markup does not count
    assert errors("sendMessage", chat_id=1, text=tagged, parse_mode="HTML") == []
    assert errors("sendMessage", chat_id=1, text=" \n <b> </b>", parse_mode="HTML") == [
        "Bad Request: message text is empty"
    ]


def test_caption_limit() -> None:
    assert errors("sendPhoto", chat_id=1, photo="AgAC", caption="c" * 1024) == []
    assert errors("sendPhoto", chat_id=1, photo="AgAC", caption="c" * 1025) == [
        "Bad Request: message caption is too long"
    ]


def test_bad_html_and_parse_modes() -> None:
    [error] = errors("sendMessage", chat_id=1, text="a < b", parse_mode="HTML")
    assert error.startswith("Bad Request: can't parse entities: Unsupported start tag")
    assert errors("editMessageText", chat_id=1, message_id=1, text="<b>x", parse_mode="HTML")
    assert errors("sendMessage", chat_id=1, text="*x*", parse_mode="MarkdownV2")
    assert errors("sendMessage", chat_id=1, text="x", parse_mode="Fancy") == [
        "Bad Request: unsupported parse_mode"
    ]


def test_inline_buttons() -> None:
    def button_errors(**button: Any) -> list[str]:
        return errors("sendMessage", chat_id=1, text="x", reply_markup=keyboard(button))

    assert button_errors(text="ok", callback_data="d" * 64) == []
    assert button_errors(text="ok", callback_data="ж" * 32) == []  # 64 bytes
    assert any("BUTTON_DATA_INVALID" in e for e in button_errors(text="x", callback_data="d" * 65))
    assert any("BUTTON_DATA_INVALID" in e for e in button_errors(text="x", callback_data="ж" * 33))
    assert any("Text buttons are unallowed" in e for e in button_errors(text="x"))
    assert button_errors(text="x", callback_data="a", url="https://t.me")
    assert any("BUTTON_URL_INVALID" in e for e in button_errors(text="x", url="ftp://x"))
    assert button_errors(text="x", url="tg://resolve?domain=a") == []
    assert button_errors(text="x", callback_data=5)  # must be a String


def test_answer_callback_query_text() -> None:
    assert errors("answerCallbackQuery", callback_query_id="1", text="t" * 200) == []
    assert errors("answerCallbackQuery", callback_query_id="1", text="t" * 201)


def test_bot_commands() -> None:
    def command_errors(*commands: dict[str, Any], **extra: Any) -> list[str]:
        return errors("setMyCommands", commands=list(commands), **extra)

    assert command_errors({"command": "start", "description": "Start"}) == []
    assert command_errors({"command": "Start", "description": "Start"})
    assert command_errors({"command": "c" * 33, "description": "d"})
    assert command_errors({"command": "ok", "description": "d" * 257})
    assert command_errors({"command": "ok", "description": " "})
    many = [{"command": f"c{i}", "description": "d"} for i in range(101)]
    assert command_errors(*many)
    assert command_errors(*many[:100]) == []
    scope = {"type": "chat", "chat_id": 5}
    assert command_errors({"command": "a", "description": "d"}, scope=scope) == []
    assert command_errors({"command": "a", "description": "d"}, scope={"type": "chat"})
    assert command_errors({"command": "a", "description": "d"}, scope={"type": "nope"})


def test_types() -> None:
    assert errors("sendMessage", chat_id="@channel", text="x") == []
    assert errors("sendMessage", chat_id=1.5, text="x")
    assert errors("getUpdates", limit=101)
    assert errors("sendMessage", chat_id=1, text="x", disable_notification="yes")
    assert errors("sendMessage", chat_id=1, text="x", reply_parameters={"chat_id": 1})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"chat_id": "-100123"}, {"chat_id": -100123}),
        ({"chat_id": "@news"}, {"chat_id": "@news"}),
        ({"text": "123"}, {"text": "123"}),
        ({"disable_notification": "true"}, {"disable_notification": True}),
        ({"reply_markup": '{"inline_keyboard":[]}'}, {"reply_markup": {"inline_keyboard": []}}),
    ],
)
def test_form_values_decode_like_telegram(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    assert decode_params("sendMessage", raw) == expected
