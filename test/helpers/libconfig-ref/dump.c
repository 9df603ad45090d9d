/* Reference dumper for the libconfig differential tests: parses each file named on the command
 * line with the system's C libconfig and prints one line per file, either the canonical JSON of
 * src/libconfig/json.ts or "ERROR <line>: <message>". Build: cc dump.c -o dump -lconfig */

#include <libconfig.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_string(const char *s)
{
  putchar('"');
  for(; *s; s++)
  {
    unsigned char c = (unsigned char)*s;
    switch(c)
    {
      case '"': fputs("\\\"", stdout); break;
      case '\\': fputs("\\\\", stdout); break;
      case '\b': fputs("\\b", stdout); break;
      case '\f': fputs("\\f", stdout); break;
      case '\n': fputs("\\n", stdout); break;
      case '\r': fputs("\\r", stdout); break;
      case '\t': fputs("\\t", stdout); break;
      default:
        if(c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
  }
  putchar('"');
}

/* A setting's float as %.17g, an element's as the shortest %g that reads back the same. */
static void print_float(double v, int is_element)
{
  char buf[64];
  int p;
  if(isinf(v)) { fputs(v > 0 ? "1e999" : "-1e999", stdout); return; }
  snprintf(buf, sizeof buf, "%.17g", v);
  if(is_element)
    for(p = 1; p < 17; p++)
    {
      snprintf(buf, sizeof buf, "%.*g", p, v);
      if(strtod(buf, NULL) == v) break;
      snprintf(buf, sizeof buf, "%.17g", v);
    }
  fputs(buf, stdout);
  if(!strpbrk(buf, ".e")) fputs(".0", stdout);
}

static void print_value(const config_setting_t *s, int is_element)
{
  int i, n;
  long long ll;
  switch(config_setting_type(s))
  {
    case CONFIG_TYPE_GROUP:
      putchar('{');
      n = config_setting_length(s);
      for(i = 0; i < n; i++)
      {
        const config_setting_t *child = config_setting_get_elem(s, i);
        if(i) putchar(',');
        print_string(config_setting_name(child));
        putchar(':');
        print_value(child, 0);
      }
      putchar('}');
      break;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
      putchar('[');
      n = config_setting_length(s);
      for(i = 0; i < n; i++)
      {
        if(i) putchar(',');
        print_value(config_setting_get_elem(s, i), 1);
      }
      putchar(']');
      break;
    case CONFIG_TYPE_INT: printf("%d", config_setting_get_int(s)); break;
    case CONFIG_TYPE_INT64:
      ll = config_setting_get_int64(s);
      if(ll > 9007199254740992LL || ll < -9007199254740992LL) printf("\"%lld\"", ll);
      else printf("%lld", ll);
      break;
    case CONFIG_TYPE_FLOAT: print_float(config_setting_get_float(s), is_element); break;
    case CONFIG_TYPE_BOOL: fputs(config_setting_get_bool(s) ? "true" : "false", stdout); break;
    case CONFIG_TYPE_STRING: print_string(config_setting_get_string(s)); break;
    default: fputs("null", stdout);
  }
}

int main(int argc, char **argv)
{
  int i;
  for(i = 1; i < argc; i++)
  {
    config_t cfg;
    char *copy = strdup(argv[i]);
    config_init(&cfg);
    config_set_include_dir(&cfg, dirname(copy));
    if(config_read_file(&cfg, argv[i]))
      print_value(config_root_setting(&cfg), 0);
    else
      printf("ERROR %d: %s", config_error_line(&cfg), config_error_text(&cfg));
    putchar('\n');
    config_destroy(&cfg);
    free(copy);
  }
  return 0;
}
