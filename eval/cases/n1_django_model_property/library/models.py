from django.db import models


class Branch(models.Model):
    name = models.CharField(max_length=100)

    @property
    def open_loans(self):
        return Loan.objects.filter(branch=self, returned=False).count()


class Loan(models.Model):
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE)
    returned = models.BooleanField(default=False)
