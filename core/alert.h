/*
 * alert.h - delivering alerts: a flow failed, totals differ, a connection
 * needs re-authorization.
 *
 * Alerts are rows in the store (activity.c writes them as they happen).
 * ferry_alert_deliver hands every undelivered one to the alert_command
 * setting (a shell command: mail, chat, a monitoring hook) and marks it
 * delivered when the command exits 0.  Without a command, alerts stay in the
 * store for `ferry status` and `ferry alerts`.
 */
#ifndef FERRY_ALERT_H
#define FERRY_ALERT_H

#include <ferry/plugin.h>

#include "store.h"

/* Alerts as a new JSON array (newest last); only undelivered ones with `pending`. */
int ferry_alert_list(ferry_store *st, int pending, int limit, json_t **out, ferry_error *err);

/*
 * Run the alert command for each undelivered alert.  *delivered counts the
 * ones the command accepted.  FERRY_OK also when there is no command; a
 * command that fails leaves its alert undelivered (tried again next time)
 * and is logged.
 */
int ferry_alert_deliver(ferry_store *st, int *delivered, ferry_error *err);

#endif /* FERRY_ALERT_H */
