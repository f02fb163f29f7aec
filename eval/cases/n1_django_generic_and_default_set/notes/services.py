from .models import Board, Card, Comment


def board_sizes():
    return {b.title: b.card_set.count() for b in Board.objects.all()}  # expect[n+1]


def comment_targets():
    return [(c.body, str(c.target)) for c in Comment.objects.all()[:50]]  # expect[n+1]


def card_boards():
    return [(c.text, c.board.title) for c in Card.objects.select_related()]


def board_total_text(boards):
    out = {}
    for board in Board.objects.prefetch_related("card_set"):
        out[board.title] = sum(len(card.text) for card in board.card_set.all())
    return out
