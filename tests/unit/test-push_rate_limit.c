/* push_rate_limit: the push model's session limits as an attacker would push them. A source
 * gets its budget a minute and no more; another source is not slowed by it; a flood from more
 * sources than the table holds neither grows it nor evicts a source already counted (its count
 * would start again: the flooder's own reset) nor locks it out: the newcomers share one overflow
 * budget; a dead entry is taken again; a budget spent only by counting (what a proved session
 * does) is not spent by looking; IPv6 sources count by their /64. */
#include "tests/unit/unit.h"

#include "verifier/push_rate_limit.h"

#define NOW 1750000000

static void budget_a_minute(void **state) {
        struct push_rate_limit l;

        (void)state;
        assert_int_equal(push_rate_limit_init(&l, 8, 3, 2), 0);
        for (int i = 0; i < 3; i++)
                assert_true(push_rate_limit_allow(&l, "192.0.2.1", NOW + i));
        assert_false(push_rate_limit_allow(&l, "192.0.2.1", NOW + 10));
        assert_true(push_rate_limit_allow(&l, "192.0.2.2", NOW + 10)); /* another source: its own */
        assert_false(push_rate_limit_allow(&l, "192.0.2.1", NOW + PUSH_RATE_WINDOW_S - 1));
        assert_true(push_rate_limit_allow(&l, "192.0.2.1", NOW + PUSH_RATE_WINDOW_S)); /* a new minute */
        push_rate_limit_done(&l);
}

static void flood_neither_evicts_nor_locks(void **state) {
        struct push_rate_limit l;
        char source[32];

        (void)state;
        assert_int_equal(push_rate_limit_init(&l, 4, 2, 3), 0);
        /* an honest source spends its budget */
        assert_true(push_rate_limit_allow(&l, "198.51.100.7", NOW));
        assert_true(push_rate_limit_allow(&l, "198.51.100.7", NOW));
        /* a flood from 1000 sources: 3 take the other entries, the rest share the overflow */
        for (int i = 0; i < 1000; i++) {
                snprintf(source, sizeof(source), "203.0.113.%d", i);
                push_rate_limit_allow(&l, source, NOW + 1);
        }
        assert_int_equal(l.capacity, 4); /* bounded: no entry added */
        /* the honest source was not evicted: its count stands (an eviction would reset it) */
        assert_false(push_rate_limit_allow(&l, "198.51.100.7", NOW + 2));
        /* the sources that took the free entries have their own budget (1 of 2 spent) */
        assert_false(push_rate_limit_exhausted(&l, "203.0.113.0", NOW + 2));
        push_rate_limit_done(&l);
}

static void flood_keeps_counted_sources_budget(void **state) {
        struct push_rate_limit l;
        char source[32];

        (void)state;
        assert_int_equal(push_rate_limit_init(&l, 4, 5, 3), 0);
        assert_true(push_rate_limit_allow(&l, "198.51.100.7", NOW)); /* counted before the flood */
        for (int i = 0; i < 1000; i++) {
                snprintf(source, sizeof(source), "203.0.113.%d", i);
                push_rate_limit_allow(&l, source, NOW + 1);
        }
        /* the newcomers' shared budget is spent: a flooder gets nothing more */
        assert_false(push_rate_limit_allow(&l, "203.0.113.999", NOW + 2));
        assert_false(push_rate_limit_allow(&l, "192.0.2.77", NOW + 2));
        /* the source counted before the flood is not locked out: its own budget remains */
        for (int i = 0; i < 4; i++)
                assert_true(push_rate_limit_allow(&l, "198.51.100.7", NOW + 2));
        assert_false(push_rate_limit_allow(&l, "198.51.100.7", NOW + 2));
        /* a minute later the flood's entries are dead and taken again */
        assert_true(push_rate_limit_allow(&l, "192.0.2.77", NOW + 2 + PUSH_RATE_WINDOW_S));
        push_rate_limit_done(&l);
}

static void looking_spends_nothing(void **state) {
        struct push_rate_limit l;

        (void)state;
        assert_int_equal(push_rate_limit_init(&l, 4, 2, 2), 0);
        for (int i = 0; i < 100; i++)
                assert_false(push_rate_limit_exhausted(&l, "victim-agent", NOW));
        push_rate_limit_count(&l, "victim-agent", NOW);
        assert_false(push_rate_limit_exhausted(&l, "victim-agent", NOW));
        push_rate_limit_count(&l, "victim-agent", NOW);
        assert_true(push_rate_limit_exhausted(&l, "victim-agent", NOW));
        push_rate_limit_done(&l);
}

static void source_keys(void **state) {
        char key[PUSH_RATE_KEY_MAX + 1];

        (void)state;
        push_rate_source_key("192.0.2.1", key, sizeof(key));
        assert_string_equal(key, "192.0.2.1");
        push_rate_source_key("::ffff:192.0.2.1", key, sizeof(key));
        assert_string_equal(key, "192.0.2.1");
        push_rate_source_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", key, sizeof(key));
        assert_string_equal(key, "2001:db8:1:2::/64");
        push_rate_source_key("2001:db8:1:2::1", key, sizeof(key));
        assert_string_equal(key, "2001:db8:1:2::/64"); /* the same host's other address */
        push_rate_source_key("2001:db8:1:3::1", key, sizeof(key));
        assert_string_equal(key, "2001:db8:1:3::/64");
        push_rate_source_key("", key, sizeof(key));
        assert_string_equal(key, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(budget_a_minute),
                cmocka_unit_test(flood_neither_evicts_nor_locks),
                cmocka_unit_test(flood_keeps_counted_sources_budget),
                cmocka_unit_test(looking_spends_nothing),
                cmocka_unit_test(source_keys),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
