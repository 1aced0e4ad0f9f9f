"""The `____` a learner replaces with an answer."""


class _Placeholder:
    """Marks an answer the learner has not written yet: checks report "not attempted"."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        return False


____ = _Placeholder()


def is_placeholder(value: object) -> bool:
    return value is ____
