"""One module per engine. Backends know nothing of labs or exercises."""


class BackendUnavailable(RuntimeError):
    """A configured server cannot be used; the message names it (password hidden) and the fix."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing the traceback: the learner sees one paragraph
        # that says what to do, not the driver's stack.
        return [f"{type(self).__name__}: {self}"]
