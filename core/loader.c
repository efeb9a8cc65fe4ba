/* loader.c - libltdl plugin loading with ABI checks (see loader.h). */
#include "config.h"

#include "loader.h"

#ifdef HAVE_DLFCN_H
#include <dlfcn.h>
#endif

#include <dirent.h>
#include <ltdl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

typedef struct loaded {
    ferry_plugin pub;
    char *name;
    char *path;
    ferry_plugin_descriptor desc; /* zero-extended copy */
    lt_dlhandle handle;
} loaded;

struct ferry_loader {
    const ferry_host *host;
    loaded **plugins;
    size_t n, cap;
    char **refusals;
    size_t n_refusals, cap_refusals;
    int ltdl_ready;
};

size_t ferry_loader_min_descriptor_size(void)
{
    return offsetof(ferry_plugin_descriptor, close) + sizeof(((ferry_plugin_descriptor *)0)->close);
}

ferry_loader *ferry_loader_create(const ferry_host *host)
{
    ferry_loader *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return NULL;
    }
    if (lt_dlinit() != 0) {
        ferry_log_error("cannot initialise libltdl: %s", lt_dlerror());
        free(l);
        return NULL;
    }
    l->ltdl_ready = 1;
    l->host = host;
    return l;
}

void ferry_loader_destroy(ferry_loader *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        /* Under AddressSanitizer, unloading hides plugin frames in leak reports; keep them mapped then. */
        if (getenv("FERRY_NO_UNLOAD") == NULL) {
            lt_dlclose(l->plugins[i]->handle);
        }
        free(l->plugins[i]->name);
        free(l->plugins[i]->path);
        free(l->plugins[i]);
    }
    free(l->plugins);
    for (size_t i = 0; i < l->n_refusals; i++) {
        free(l->refusals[i]);
    }
    free(l->refusals);
    if (l->ltdl_ready) {
        lt_dlexit();
    }
    free(l);
}

static int refuse(ferry_loader *l, ferry_error *err, const char *path, const char *fmt, ...) FERRY_FMT(4, 5);
static int refuse(ferry_loader *l, ferry_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *reason = ferry_vasprintf(fmt, ap);
    va_end(ap);
    char *line = ferry_asprintf("%s: %s", path, reason ? reason : "refused");
    free(reason);
    if (line == NULL) {
        return FERRY_FATAL;
    }
    ferry_log(FERRY_LOG_WARN, "plugin", "refused %s", line);
    if (err != NULL) {
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "%s", line);
        ferry_strlcpy(err->where, path, sizeof(err->where));
    }
    if (l->n_refusals == l->cap_refusals) {
        size_t cap = l->cap_refusals ? l->cap_refusals * 2 : 8;
        char **p = realloc(l->refusals, cap * sizeof(*p));
        if (p == NULL) {
            free(line);
            return FERRY_CONFIG_ERROR;
        }
        l->refusals = p;
        l->cap_refusals = cap;
    }
    l->refusals[l->n_refusals++] = line;
    return FERRY_CONFIG_ERROR;
}

/* Check a descriptor's header and required members; NULL when fine, else the reason. */
static const char *check_descriptor(const ferry_plugin_descriptor *d, char *why, size_t n)
{
    if (d->abi_major != FERRY_PLUGIN_ABI_MAJOR) {
        snprintf(why, n, "built for plugin ABI %u.%u, this ferry speaks ABI %d.%d", d->abi_major, d->abi_minor,
                 FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR);
        return why;
    }
    if (d->struct_size < ferry_loader_min_descriptor_size()) {
        snprintf(why, n, "descriptor too small (%u bytes, at least %zu needed)", d->struct_size,
                 ferry_loader_min_descriptor_size());
        return why;
    }
    return NULL;
}

static const char *check_members(const ferry_plugin_descriptor *d, char *why, size_t n)
{
    if (d->name == NULL || d->name[0] == '\0') {
        return "descriptor has no name";
    }
    for (const char *p = d->name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
            snprintf(why, n, "plugin name '%s' may only use a-z, 0-9, '_' and '-'", d->name);
            return why;
        }
    }
    if (d->version == NULL) {
        return "descriptor has no version";
    }
    if (d->open == NULL || d->close == NULL) {
        return "descriptor lacks the open or close operation";
    }
    return NULL;
}

/*
 * Why a file could not be loaded.  libltdl reports "file not found" for any
 * failed dlopen (it tries other names and keeps the last error), even for a
 * file that is there but is no library or misses a dependency; ask the
 * system loader for the real reason where there is one.
 */
static const char *load_failure(const char *path, const char *ltdl_reason)
{
#ifdef HAVE_DLFCN_H
    void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (h == NULL) {
        const char *e = dlerror();
        if (e != NULL) {
            size_t n = strlen(path); /* "PATH: reason": the caller names the file already */
            return strncmp(e, path, n) == 0 && e[n] == ':' && e[n + 1] == ' ' ? e + n + 2 : e;
        }
    } else {
        dlclose(h);
    }
#else
    (void)path;
#endif
    return ltdl_reason != NULL ? ltdl_reason : "unknown error";
}

int ferry_loader_load_file(ferry_loader *l, const char *path, ferry_error *err)
{
    lt_dladvise advise;
    if (lt_dladvise_init(&advise) != 0) {
        return refuse(l, err, path, "libltdl: %s", lt_dlerror());
    }
    lt_dladvise_local(&advise);
    lt_dlhandle h = lt_dlopenadvise(path, advise);
    lt_dladvise_destroy(&advise);
    if (h == NULL) {
        return refuse(l, err, path, "cannot be loaded: %s", load_failure(path, lt_dlerror()));
    }
    /* A data pointer is converted to a function pointer here, as dlsym requires. */
    void *sym = lt_dlsym(h, FERRY_PLUGIN_ENTRY_SYMBOL);
    if (sym == NULL) {
        lt_dlclose(h);
        return refuse(l, err, path, "no %s symbol (not a ferry plugin?)", FERRY_PLUGIN_ENTRY_SYMBOL);
    }
    ferry_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof(entry));
    const ferry_plugin_descriptor *d = entry(l->host);
    if (d == NULL) {
        lt_dlclose(h);
        return refuse(l, err, path, "%s returned no descriptor (the plugin refused this host)",
                      FERRY_PLUGIN_ENTRY_SYMBOL);
    }
    char why[256];
    const char *reason = check_descriptor(d, why, sizeof(why));
    if (reason != NULL) {
        lt_dlclose(h);
        return refuse(l, err, path, "%s", reason);
    }
    loaded *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        lt_dlclose(h);
        return refuse(l, err, path, "out of memory");
    }
    size_t take = d->struct_size < sizeof(p->desc) ? d->struct_size : sizeof(p->desc);
    memcpy(&p->desc, d, take);
    reason = check_members(&p->desc, why, sizeof(why));
    const ferry_plugin *earlier = reason == NULL ? ferry_loader_find(l, p->desc.name) : NULL;
    if (earlier != NULL) {
        /* The same plugin further down the search path (e.g. the installed copy): shadowed, not wrong. */
        ferry_log(FERRY_LOG_DEBUG, "plugin", "%s: shadowed by %s", path, earlier->path);
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "%s: plugin '%s' is already loaded from %s", path, p->desc.name,
                        earlier->path);
        free(p);
        lt_dlclose(h);
        return FERRY_CONFIG_ERROR;
    }
    if (reason != NULL) {
        free(p);
        lt_dlclose(h);
        return refuse(l, err, path, "%s", reason);
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        loaded **arr = realloc(l->plugins, cap * sizeof(*arr));
        if (arr == NULL) {
            free(p);
            lt_dlclose(h);
            return refuse(l, err, path, "out of memory");
        }
        l->plugins = arr;
        l->cap = cap;
    }
    p->handle = h;
    p->name = ferry_strdup(p->desc.name);
    p->path = ferry_strdup(path);
    p->pub.name = p->name;
    p->pub.path = p->path;
    p->pub.desc = &p->desc;
    l->plugins[l->n++] = p;
    ferry_log(FERRY_LOG_DEBUG, "plugin", "loaded %s %s from %s", p->name, p->desc.version, path);
    return FERRY_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Load every *.so in dir, in name order so results do not depend on readdir order. */
static void scan_dir(ferry_loader *l, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        ferry_log(FERRY_LOG_DEBUG, "plugin", "plugin directory %s: cannot open", dir);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof(*p));
            if (p == NULL) {
                break;
            }
            names = p;
        }
        names[n++] = ferry_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 0; i < n; i++) {
        char *path = ferry_asprintf("%s/%s", dir, names[i]);
        struct stat sb;
        if (path != NULL && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            ferry_loader_load_file(l, path, NULL);
        }
        free(path);
        free(names[i]);
    }
    free(names);
}

size_t ferry_loader_scan(ferry_loader *l, const char *installed_dir)
{
    size_t before = l->n;
    const char *env = getenv("FERRY_PLUGIN_PATH");
    if (env != NULL && env[0]) {
        char *copy = ferry_strdup(env);
        char *p = copy;
        while (p != NULL && *p) {
            char *colon = strchr(p, ':');
            if (colon != NULL) {
                *colon = '\0';
            }
            if (*p) {
                scan_dir(l, p);
            }
            p = colon ? colon + 1 : NULL;
        }
        free(copy);
    }
    if (installed_dir != NULL && installed_dir[0]) {
        scan_dir(l, installed_dir);
    }
    return l->n - before;
}

size_t ferry_loader_count(const ferry_loader *l)
{
    return l->n;
}

const ferry_plugin *ferry_loader_get(const ferry_loader *l, size_t i)
{
    return i < l->n ? &l->plugins[i]->pub : NULL;
}

const ferry_plugin *ferry_loader_find(const ferry_loader *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->plugins[i]->name, name) == 0) {
            return &l->plugins[i]->pub;
        }
    }
    return NULL;
}

size_t ferry_loader_refusal_count(const ferry_loader *l)
{
    return l->n_refusals;
}

const char *ferry_loader_refusal(const ferry_loader *l, size_t i)
{
    return i < l->n_refusals ? l->refusals[i] : NULL;
}
