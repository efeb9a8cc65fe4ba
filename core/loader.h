/*
 * loader.h - finding and loading connector plugins with libltdl.
 *
 * The loader searches each directory of FERRY_PLUGIN_PATH (colon-separated),
 * then the installed plugin directory, for *.so files.  A plugin is accepted
 * when it exports FERRY_PLUGIN_ENTRY_SYMBOL, the entry returns a descriptor
 * of our ABI major whose declared size covers every required member, and it
 * has a name not already taken (earlier directories win).  Anything else is
 * refused with one line naming the file and the reason; the rest still load.
 *
 * The core reads no more of a descriptor than its struct_size says: it copies
 * that prefix into a zeroed descriptor of the core's size, so members a
 * plugin does not know about read as NULL.
 */
#ifndef FERRY_LOADER_H
#define FERRY_LOADER_H

#include <stddef.h>

#include <ferry/plugin.h>

typedef struct ferry_loader ferry_loader;

/* One loaded plugin. */
typedef struct ferry_plugin {
    const char *name;
    const char *path;                    /* the file it came from */
    const ferry_plugin_descriptor *desc; /* the core-sized copy */
} ferry_plugin;

/*
 * A new loader that hands `host` to every plugin entry (borrowed: must
 * outlive the loader).  NULL when libltdl cannot initialise.
 */
ferry_loader *ferry_loader_create(const ferry_host *host);

/* Unload every plugin and free the loader. */
void ferry_loader_destroy(ferry_loader *loader);

/*
 * Scan FERRY_PLUGIN_PATH and then `installed_dir` (may be NULL) for plugins.
 * Returns the number of plugins accepted; refusals are kept (see below) and
 * logged as warnings.
 */
size_t ferry_loader_scan(ferry_loader *loader, const char *installed_dir);

/* Load one file.  FERRY_OK, or FERRY_CONFIG_ERROR with the refusal in err (and kept). */
int ferry_loader_load_file(ferry_loader *loader, const char *path, ferry_error *err);

/* How many plugins are loaded, and the i-th of them (borrowed; valid until the loader is destroyed). */
size_t ferry_loader_count(const ferry_loader *loader);
const ferry_plugin *ferry_loader_get(const ferry_loader *loader, size_t i);
/* The plugin called `name`, or NULL. */
const ferry_plugin *ferry_loader_find(const ferry_loader *loader, const char *name);

/* Refusals: "FILE: reason" lines, in the order met. */
size_t ferry_loader_refusal_count(const ferry_loader *loader);
const char *ferry_loader_refusal(const ferry_loader *loader, size_t i);

/* The smallest descriptor size the loader accepts (everything up to `close`). */
size_t ferry_loader_min_descriptor_size(void);

#endif /* FERRY_LOADER_H */
