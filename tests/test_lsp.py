"""The language server (``querylint lsp``), driven over stdio by pygls's language client:
initialize, open a clean view, a change that introduces an N+1 (diagnostics from the unsaved
buffer), a code action that fixes it, hover for the rule's docs, shutdown."""
import asyncio
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import BaseLanguageClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "fixtures" / "django" / "report_shop"

CLEAN = (SHOP / "dj_shop" / "checkout_before.py").read_text(encoding="utf-8")
N_PLUS_ONE = CLEAN.replace(
    '    lines = list(order.lines.select_related("product"))\n    total = sum(line.product.price * line.quantity for line in lines)\n',
    "    total = 0\n    for line in order.lines.all():\n        total += line.product.price * line.quantity\n",
)


async def _started(project: Path):
    """A language client talking to ``querylint lsp`` in ``project``, initialized, and the queue
    of the diagnostics it publishes."""
    client = BaseLanguageClient("querylint-test", "1")
    published: "asyncio.Queue[lsp.PublishDiagnosticsParams]" = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "querylint", "lsp", cwd=str(project))
    await client.initialize_async(lsp.InitializeParams(
        process_id=None, root_uri=project.as_uri(), capabilities=lsp.ClientCapabilities(),
        workspace_folders=[lsp.WorkspaceFolder(uri=project.as_uri(), name=project.name)],
    ))
    client.initialized(lsp.InitializedParams())
    return client, published


async def _session(project: Path):
    client, published = await _started(project)
    uri = (project / "dj_shop" / "views.py").as_uri()
    try:
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=CLEAN)))
        opened = await asyncio.wait_for(published.get(), 60)
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=N_PLUS_ONE)]))
        changed = await asyncio.wait_for(published.get(), 60)
        diagnostic = changed.diagnostics[0]
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
            context=lsp.CodeActionContext(diagnostics=[diagnostic])))
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=diagnostic.range.start))
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return uri, opened, changed, actions, hover


def test_the_server_lints_the_buffer_fixes_and_explains(tmp_path):
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    (project / "dj_shop" / "views.py").write_text(CLEAN, encoding="utf-8")

    uri, opened, changed, actions, hover = asyncio.run(_session(project))

    assert (opened.uri, opened.diagnostics) == (uri, [])
    assert [(d.code, d.source, d.range.start.line) for d in changed.diagnostics] == [("QL105", "querylint", 10)]
    assert "add .select_related(\"product\")" in changed.diagnostics[0].message
    # the file on disk was never touched: the diagnostics came from the unsaved buffer
    assert (project / "dj_shop" / "views.py").read_text(encoding="utf-8") == CLEAN
    [action] = actions
    [edit] = action.edit.changes[uri]
    assert (edit.new_text, edit.range.start.line) == ('.select_related("product")', 9)
    assert action.kind == lsp.CodeActionKind.QuickFix
    assert "QL105" in hover.contents.value and "## What it does" in hover.contents.value


MODELS = '''from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=40)


class Order(models.Model):
    customer = models.CharField(max_length=40)
'''
VIEWS = '''from shop.models import Order


def names(request):
    return [o.customer.name for o in Order.objects.all()]
'''


async def _two_files(project: Path):
    client, published = await _started(project)
    models_uri, views_uri = (project / "shop" / "models.py").as_uri(), (project / "shop" / "views.py").as_uri()
    seen = {}
    try:
        for uri, text in ((views_uri, VIEWS), (models_uri, MODELS)):
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
            got = await asyncio.wait_for(published.get(), 60)
            seen[got.uri] = got.diagnostics
        assert seen[views_uri] == []
        # the relation becomes a foreign key in the unsaved models.py: the open views.py is linted again
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=models_uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=MODELS.replace(
                "customer = models.CharField(max_length=40)", "customer = models.ForeignKey(Customer, on_delete=models.CASCADE)"))]))
        while True:  # (opening models.py re-linted views.py once already, still clean)
            got = await asyncio.wait_for(published.get(), 30)
            if got.uri == views_uri and got.diagnostics:
                break
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return got


def test_a_model_edited_in_one_buffer_updates_the_findings_of_another(tmp_path):
    project = tmp_path / "app"
    (project / "shop").mkdir(parents=True)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    (project / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (project / "shop" / "models.py").write_text(MODELS, encoding="utf-8")
    (project / "shop" / "views.py").write_text(VIEWS, encoding="utf-8")
    got = asyncio.run(_two_files(project))
    assert [d.code for d in got.diagnostics] == ["QL105"]


async def _template_session(project: Path):
    client, published = await _started(project)
    page = project / "dj_pages" / "templates" / "dj_pages" / "orders.html"
    uri = page.as_uri()
    try:
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="html", version=1, text=page.read_text(encoding="utf-8"))))
        opened = await asyncio.wait_for(published.get(), 60)
        diagnostic = opened.diagnostics[0]
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
            context=lsp.CodeActionContext(diagnostics=[diagnostic])))
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return opened, actions


def test_a_template_gets_diagnostics_and_a_fix_in_its_view(tmp_path):
    """The template's N+1 is diagnosed in the template; its quick fix edits the view's file."""
    project = tmp_path / "pages"
    shutil.copytree(ROOT / "fixtures" / "django" / "templates", project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    opened, actions = asyncio.run(_template_session(project))
    assert [(d.code, d.range.start.line) for d in opened.diagnostics] == [("QL105", 2)]
    [action] = actions
    [(target, [edit])] = action.edit.changes.items()
    assert target == (project / "dj_pages" / "views.py").resolve().as_uri()
    assert (edit.new_text, edit.range.start.line) == ('.select_related("customer")', 8)
