from .models import Branch


def branch_report():
    lines = []
    for branch in Branch.objects.all():
        lines.append(f"{branch.name}: {branch.open_loans}")  # expect[n+1]
    return "\n".join(lines)


def single_branch(pk):
    branch = Branch.objects.get(pk=pk)
    return {"name": branch.name, "open": branch.open_loans}
