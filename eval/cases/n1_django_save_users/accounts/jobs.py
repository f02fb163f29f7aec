from .models import Account


def normalise_emails():
    for account in Account.objects.filter(active=True):
        account.email = account.email.lower()
        account.save()  # expect[n+1]


def deactivate(emails):
    Account.objects.filter(email__in=emails).update(active=False)
