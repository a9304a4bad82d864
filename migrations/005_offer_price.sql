-- 005_offer_price.sql
--
-- Offers carry a price in the owner's Coda doc, and reconciliation totals offer values, so the
-- price gets a column (an addition to the data model's minimum list for erp.offers).
-- No BEGIN/COMMIT: the runner wraps the file in a transaction; it also runs with plain psql.

ALTER TABLE erp.offers
  ADD COLUMN list_price numeric,
  ADD COLUMN currency text NOT NULL DEFAULT 'USD',
  ADD CONSTRAINT offers_list_price_check CHECK (list_price >= 0),
  ADD CONSTRAINT offers_currency_check CHECK (currency ~ '^[A-Z]{3}$');

COMMENT ON COLUMN erp.offers.list_price IS
  'Standard price of the offer in currency (numeric, >= 0); NULL when the offer is priced per engagement. Addition to the data model: the Coda doc prices offers.';
COMMENT ON COLUMN erp.offers.currency IS 'ISO 4217 code of list_price, e.g. USD. Default USD.';
