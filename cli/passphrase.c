/* Passphrase sources: --password-file, $OPENLEDGER_PASSWORD, or a prompt on
 * the controlling terminal with echo off. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"

#define PASS_MAX 1024

void cli_passphrase_free(char *p, size_t len)
{
    if (!p) return;
    OPENSSL_cleanse(p, len + 1);
    free(p);
}

static int dup_secret(const char *s, size_t n, char **out, size_t *len, util_err *err)
{
    char *p = malloc(n + 1);
    if (!p) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    memcpy(p, s, n);
    p[n] = 0;
    *out = p;
    *len = n;
    return 0;
}

static int from_file(const char *path, char **out, size_t *len, util_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return util_err_set(err, UTIL_EIO, "cannot open password file %s: %s", path,
                            strerror(errno));
    char buf[PASS_MAX + 2];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t r = read(fd, buf + got, sizeof buf - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            OPENSSL_cleanse(buf, sizeof buf);
            return util_err_set(err, UTIL_EIO, "cannot read password file %s: %s", path,
                                strerror(e));
        }
        if (r == 0) break;
        got += (size_t)r;
        if (memchr(buf, '\n', got)) break;
    }
    close(fd);
    char *nl = memchr(buf, '\n', got);
    size_t n = nl ? (size_t)(nl - buf) : got;
    if (n > PASS_MAX) {
        OPENSSL_cleanse(buf, sizeof buf);
        return util_err_set(err, UTIL_EINVAL, "passphrase in %s is longer than %d bytes", path,
                            PASS_MAX);
    }
    if (n > 0 && buf[n - 1] == '\r') n--;
    int rc = dup_secret(buf, n, out, len, err);
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

/* Restores the terminal if the user interrupts the prompt, then dies of the
 * signal as usual. */
static volatile sig_atomic_t g_tty_fd = -1;
static struct termios g_saved;

static void restore_and_reraise(int sig)
{
    if (g_tty_fd >= 0) tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int g_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define NSIGS (sizeof g_sigs / sizeof g_sigs[0])

static int tty_read(int fd, const char *prompt, char *buf, size_t cap, size_t *n, util_err *err)
{
    if (write(fd, prompt, strlen(prompt)) < 0) {
        return util_err_set(err, UTIL_EIO, "cannot write to the terminal: %s", strerror(errno));
    }
    struct termios t;
    int have_t = tcgetattr(fd, &t) == 0;
    struct sigaction old[NSIGS];
    if (have_t) {
        g_saved = t;
        g_tty_fd = fd;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < NSIGS; i++)
            sigaction(g_sigs[i], &sa, &old[i]);
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
        tcsetattr(fd, TCSAFLUSH, &t);
    }
    size_t len = 0;
    int rc = 0, toolong = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            rc = util_err_set(err, UTIL_EIO, "no passphrase entered");
            break;
        }
        if (c == '\n' || c == '\r') break;
        if (len + 1 < cap)
            buf[len++] = c;
        else
            toolong = 1;
    }
    buf[len] = 0;
    if (have_t) {
        tcsetattr(fd, TCSAFLUSH, &g_saved);
        g_tty_fd = -1;
        for (size_t i = 0; i < NSIGS; i++)
            sigaction(g_sigs[i], &old[i], NULL);
    }
    if (write(fd, "\n", 1) < 0) { /* only cosmetic */
    }
    if (!rc && toolong)
        rc = util_err_set(err, UTIL_EINVAL, "passphrase longer than %d bytes", PASS_MAX);
    *n = len;
    return rc;
}

static int from_tty(const char *prompt, int confirm, char **out, size_t *len, util_err *err)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return util_err_set(err, UTIL_EINVAL,
                            "a passphrase is needed: use --password-file FILE or set "
                            "OPENLEDGER_PASSWORD (there is no terminal to ask on)");
    char a[PASS_MAX + 1], b[PASS_MAX + 1];
    size_t na = 0, nb = 0;
    int rc = tty_read(fd, prompt, a, sizeof a, &na, err);
    if (!rc && confirm) {
        rc = tty_read(fd, "Repeat passphrase: ", b, sizeof b, &nb, err);
        if (!rc && (na != nb || memcmp(a, b, na) != 0))
            rc = util_err_set(err, UTIL_EINVAL, "the passphrases do not match");
    }
    close(fd);
    if (!rc) rc = dup_secret(a, na, out, len, err);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return rc;
}

int cli_passphrase_get(const cli_ctx *ctx, const char *prompt, int confirm, char **out, size_t *len,
                       util_err *err)
{
    *out = NULL;
    *len = 0;
    int rc;
    const char *env = getenv("OPENLEDGER_PASSWORD");
    if (ctx->password_file)
        rc = from_file(ctx->password_file, out, len, err);
    else if (env)
        rc = dup_secret(env, strlen(env), out, len, err);
    else
        rc = from_tty(prompt, confirm, out, len, err);
    if (rc) return rc;
    /* Only a new key must not get an empty passphrase; an existing file may
     * have one (made by another tool), and decrypting will tell. */
    if (confirm && *len == 0) {
        cli_passphrase_free(*out, *len);
        *out = NULL;
        return util_err_set(err, UTIL_EINVAL, "the passphrase must not be empty");
    }
    return 0;
}
