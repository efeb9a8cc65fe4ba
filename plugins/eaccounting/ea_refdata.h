/*
 * ea_refdata.h - eAccounting's reference data, read once and cached.
 *
 * Company settings, terms of payment, units, article account codings,
 * countries, currencies, delivery methods and terms, fiscal years, VAT codes
 * and accounts are read in one go (about a dozen list requests) the first
 * time something needs them, kept in the connection's state
 * (host->state_set "refdata") and reused by every later open - no request -
 * until they are older than reference_data_max_age_hours or the action
 * refresh-reference-data re-reads them.  When a name does not resolve, the
 * cache is re-read once per open before the record is refused (someone may
 * just have added a terms of payment in eAccounting).
 *
 * VAT codes and accounts need the ea:accounting scope; without it they are
 * cached as empty lists with a note, and nothing else fails.
 */
#ifndef EA_REFDATA_H
#define EA_REFDATA_H

#include <ferry/plugin.h>

#include "money.h"

/*
 * Amounts, prices, quantities and rates are read with 4 decimals (enough for
 * eAccounting's unit prices, quantities and discount fractions), rounded half
 * away from zero, as ferry_money (core/money.c, compiled into the plugin).
 */
#define EA_DECIMALS 4

/* Kinds in the cache (the list endpoints' names). */
#define EA_REF_TERMS "termsofpayments"
#define EA_REF_UNITS "units"
#define EA_REF_CODINGS "articleaccountcodings"
#define EA_REF_COUNTRIES "countries"
#define EA_REF_CURRENCIES "currencies"
#define EA_REF_DELIVERY_METHODS "deliverymethods"
#define EA_REF_DELIVERY_TERMS "deliveryterms"
#define EA_REF_FISCAL_YEARS "fiscalyears"
#define EA_REF_VAT_CODES "vatcodes"
#define EA_REF_ACCOUNTS "accounts"

/* Take the cache from the connection's state, if there is one (no network).  Never fails. */
void ea_refdata_load(ferry_conn *c);

/* Make sure the cache is there and not too old; reads it from the API when needed. */
int ea_refdata_require(ferry_conn *c, ferry_error *err);

/*
 * Re-read everything from the API and store it.  *summary (may be NULL) gets
 * a new object {kind: count, ..., fetched_at}.
 */
int ea_refdata_refresh(ferry_conn *c, json_t **summary, ferry_error *err);

/* The cached company settings (borrowed) or NULL; call ea_refdata_require first. */
const json_t *ea_refdata_company(const ferry_conn *c);

/* The cached list of `kind` (borrowed) or NULL. */
const json_t *ea_refdata_list(const ferry_conn *c, const char *kind);

/*
 * Resolve `value` of canonical field `field` in list `kind`:
 *   termsofpayments  Id, Name, NameEnglish, or a number of days (normal terms first)
 *   units            Id, Code, Abbreviation, AbbreviationEnglish, Name
 *   deliverymethods, deliveryterms   Id, Code, Name, NameEnglish
 *   articleaccountcodings            Id, Name, NameEnglish
 *   currencies, countries            Code (countries also Name, NameEnglish)
 * Text compares without case.  FERRY_OK with *found (borrowed), or
 * FERRY_RECORD_ERROR naming the field and the value and, when there are
 * few, the valid ones.
 */
int ea_refdata_resolve(ferry_conn *c, const char *kind, const char *value, const char *field, const json_t **found,
                       ferry_error *err);

/* Pure form of the lookup on a list; NULL when nothing matches. */
const json_t *ea_refdata_find(const json_t *list, const char *kind, const char *value);

/*
 * The VAT rate of an article account coding as a fraction (0.25): from
 * VatRatePercent (a fraction, or a percentage when above 1) or the VatRate
 * code ("25%").  0, or -1 when the coding has neither.
 */
int ea_refdata_coding_rate(const json_t *coding, ferry_money *rate);

/* A VAT rate (a fraction) as a percentage with `decimals` places, or as many as it needs when decimals < 0 ("25"). */
char *ea_refdata_rate_percent(ferry_money rate, int decimals, char *buf, size_t n);

/* True when a coding is for services (Type "Service"). */
int ea_refdata_coding_is_service(const json_t *coding);

/*
 * The active coding for VAT `rate` (a fraction) and goods/services; the
 * same rate of the other type when there is none.  FERRY_RECORD_ERROR naming
 * `field` and listing the rates there are when nothing fits.
 */
int ea_refdata_coding_for_rate(ferry_conn *c, ferry_money rate, int service, const char *field, const json_t **coding,
                               ferry_error *err);

#endif /* EA_REFDATA_H */
