from peewee import fn

from models import Player, Team


def team_sizes():
    return {t.name: t.players.count() for t in Team.select()}  # expect[n+1]


def team_sizes_fast():
    query = Team.select(Team, fn.COUNT(Player.id).alias("n")).join(Player).group_by(Team)
    return {t.name: t.n for t in query}


def rename_all(names):
    for player in Player.select().where(Player.name.in_(names)):
        player.name = player.name.title()
        player.save()  # expect[n+1]
