from typing import Optional

from .models import Customer


class CustomerRepository:
    def by_email(self, email: str) -> Optional[Customer]:
        return Customer.objects.filter(email__iexact=email).first()
