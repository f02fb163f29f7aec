"""querylint's language server (``querylint lsp``, over stdio; built on pygls).

Diagnostics on open, on change (debounced) and on save, from the editor's unsaved text: the
buffer overlays the file (``querylint.run.source.OVERLAY``) and the project's cached index
answers for every other file, so a model edited in one file updates the findings in another.
Code actions apply a finding's fix; hover on a finding shows its rule's documentation. The
configuration is the ``pyproject.toml`` nearest each document, as on the command line.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

from querylint import __version__
from querylint.api import lint_paths
from querylint.plugins import load_registry
from querylint.run.config import ConfigError, find_config_file, find_project_root, load_config
from querylint.run.source import OVERLAY
from querylint.types import Finding

DEBOUNCE = 0.3  # seconds of quiet typing before a changed buffer is linted


class _State:
    """What the server knows between requests: each document's findings, pending lints."""

    def __init__(self) -> None:
        self.registry = load_registry()
        self.findings: Dict[str, List[Finding]] = {}
        self.pending: Dict[str, "asyncio.Task[None]"] = {}

    def lint(self, uri: str, path: Path) -> List[Finding]:
        """The findings of one document, its buffer overlaying the file on disk."""
        root = find_project_root([path])
        try:
            config = load_config(find_config_file([path]), self.registry.option_keys())
        except ConfigError:
            config = load_config(None, self.registry.option_keys())
        result = lint_paths([path], config, root, self.registry, cwd=root, cache_dir=root / ".querylint_cache", jobs=1)
        display = path.resolve().relative_to(root.resolve()).as_posix() if path.resolve().is_relative_to(root.resolve()) else str(path)
        found = [f for f in result.findings if f.path == display]
        self.findings[uri] = found
        return found


def _forget(state: _State, uri: str, task: "asyncio.Future[None]") -> None:
    """A finished lint is no longer pending (unless a newer one replaced it)."""
    if state.pending.get(uri) is task:
        del state.pending[uri]


def _path(uri: str) -> Optional[Path]:
    from pygls.uris import to_fs_path

    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def _range(lsp: Any, line: int, column: int, end_line: int, end_column: int):
    return lsp.Range(start=lsp.Position(line=line - 1, character=column - 1), end=lsp.Position(line=end_line - 1, character=end_column - 1))


def _diagnostic(lsp: Any, f: Finding):
    severity = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}.get(f.severity.value, lsp.DiagnosticSeverity.Information)
    message = f.message + (f"\nhelp: {f.fix}" if f.fix else "")
    return lsp.Diagnostic(
        range=_range(lsp, f.span.line, f.span.column, f.span.end_line, f.span.end_column),
        message=message, severity=severity, code=f.rule, source="querylint",
    )


def _changes(lsp: Any, uri: str, f: Finding) -> Dict[str, list]:
    """The finding's edits by document: an edit of another file (a template's fix goes in its
    view) names that file."""
    changes: Dict[str, list] = {}
    for e in f.edits:
        target = uri if e.path is None else _other_uri(uri, f.path, e.path)
        changes.setdefault(target, []).append(lsp.TextEdit(range=_range(lsp, e.line, e.column, e.end_line, e.end_column), new_text=e.text))
    return changes


def _other_uri(uri: str, own: str, other: str) -> str:
    """The URI of ``other`` (a path as reports show it), given that ``own`` is the path of ``uri``:
    both are relative to the same folder."""
    here = _path(uri)
    if here is None:
        return uri
    base = here
    for _ in Path(own).parts:
        base = base.parent
    return (base / other).resolve().as_uri()


def _inside(f: Finding, line: int, character: int) -> bool:
    start, end = (f.span.line - 1, f.span.column - 1), (f.span.end_line - 1, f.span.end_column - 1)
    return start <= (line, character) <= end


def build_server():
    """The language server, its features registered (pygls is imported only here)."""
    from lsprotocol import types as lsp
    from pygls.server import LanguageServer

    server = LanguageServer("querylint", __version__)
    state = _State()

    async def run(ls, uri: str, delay: float, others: bool) -> None:
        await asyncio.sleep(delay)
        path = _path(uri)
        if path is None:
            return
        doc = ls.workspace.get_text_document(uri)
        OVERLAY[str(path.resolve())] = doc.source
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, state.lint, uri, path)
        ls.publish_diagnostics(uri, [_diagnostic(lsp, f) for f in found])
        if others:
            # a model or helper edited here changes what the other open files' code does
            for other in list(state.findings):
                if other != uri and other not in state.pending:
                    schedule(ls, other, 0, others=False)

    def schedule(ls, uri: str, delay: float, others: bool = True) -> None:
        old = state.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        task = asyncio.ensure_future(run(ls, uri, delay, others))
        state.pending[uri] = task
        task.add_done_callback(lambda done: _forget(state, uri, done))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: lsp.DidOpenTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls, params: lsp.DidChangeTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, DEBOUNCE)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls, params: lsp.DidSaveTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = _path(uri)
        if path is not None:
            OVERLAY.pop(str(path.resolve()), None)
        state.findings.pop(uri, None)
        ls.publish_diagnostics(uri, [])

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls, params: lsp.CodeActionParams) -> List[lsp.CodeAction]:
        uri = params.text_document.uri
        out = []
        for f in state.findings.get(uri, ()):
            r = params.range
            if not f.edits or (f.span.end_line - 1, f.span.end_column - 1) < (r.start.line, r.start.character) or (f.span.line - 1, f.span.column - 1) > (r.end.line, r.end.character):
                continue
            out.append(lsp.CodeAction(
                title=f"querylint: {f.fix or 'apply the fix'}", kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[_diagnostic(lsp, f)], edit=lsp.WorkspaceEdit(changes=_changes(lsp, uri, f)), is_preferred=f.fix_safety == "safe",
            ))
        return out

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: lsp.HoverParams) -> Optional[lsp.Hover]:
        pos = params.position
        for f in state.findings.get(params.text_document.uri, ()):
            if _inside(f, pos.line, pos.character):
                rule = state.registry.find(f.rule)
                doc = rule.documentation() if rule is not None else ""
                text = f"**{f.rule}** ({f.name})\n\n{f.message}\n\n{doc}"
                return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))
        return None

    return server


def serve() -> None:
    """Run the server over stdin/stdout until the client says exit."""
    build_server().start_io()
