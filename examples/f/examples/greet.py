from typing import Literal, Optional


def main(
    name: str,
    times: int = 1,
    punctuation: Literal["!", ".", "?"] = "!",
    shout: bool = False,
    title: Optional[str] = None,
):
    """Greet someone, a number of times."""
    who = f"{title} {name}" if title else name
    text = f"Hello {who}{punctuation}"
    if shout:
        text = text.upper()
    return {"greetings": [text] * times, "count": times}
