/*
 * m2_address.h - Magento addresses (order addresses and customer addresses)
 * as ferry's canonical postal address, and the split of a first street line
 * into street name and house number.
 */
#ifndef M2_ADDRESS_H
#define M2_ADDRESS_H

#include <stddef.h>

#include <jansson.h>

/*
 * Split a street line into its street name and house number.  Handles the
 * number after the name ("Storgatan 12 B", "Main Street 12a",
 * "Friedrichstraße 44", "Karl Johans gate 15"), before it ("12 Main Street",
 * "221B Baker Street", "12 Rue de Rivoli"), and no number at all ("Main
 * Street": the number is empty).  Writes both parts (trimmed) into the
 * buffers.
 */
void m2_street_split(const char *line, char *name, size_t name_len, char *number, size_t number_len);

/*
 * A canonical address from a Magento address object (order address or
 * customer address; the region may be a string or a {region, region_code}
 * object).  New reference; an empty object when `native` is NULL.
 */
json_t *m2_address_decode(const json_t *native);

#endif /* M2_ADDRESS_H */
