from discounts.views import cashier, member, partners, payouts

app_name = "discounts"

urlpatterns = [
    *partners.urlpatterns,
    *member.urlpatterns,
    *cashier.urlpatterns,
    *payouts.urlpatterns,
]
