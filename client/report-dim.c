/* The dimensions of sipas report, one row each: what --by calls it, its
 * heading, and the SQL fragments report-query.c puts together. A new
 * dimension is a new row here. */
#include <stddef.h>
#include <string.h>

#include "report-dim.h"

#define CENTER_JOIN "LEFT JOIN centers c# ON c#.id = g.k#"
/* Under --as-of ($7), a center closed by then with no successor. */
#define CENTER_LABEL "c#.name_vi || CASE WHEN c#.closed_on < $7::date " \
	"THEN ' (đã đóng)' ELSE '' END"

static const struct report_dim dims[] = {
	{ "area", "Lĩnh vực", "service_area_id", "sa#.code", "sa#.name_vi",
	  "LEFT JOIN service_areas sa# ON sa#.id = g.k#", false, DIM_PLAIN, NULL },
	{ "center", "Đơn vị", "tree_center", "c#.code", CENTER_LABEL, CENTER_JOIN,
	  false, DIM_PLAIN, NULL },
	{ "district", "Huyện", "tree_district", "c#.code", CENTER_LABEL, CENTER_JOIN,
	  false, DIM_PLAIN, NULL },
	{ "level", "Cấp", "tree_center", "c#.level",
	  "CASE c#.level WHEN 'province' THEN 'Cấp tỉnh' WHEN 'district' THEN 'Cấp huyện' "
	  "ELSE 'Cấp xã' END", CENTER_JOIN, false, DIM_PLAIN, NULL },
	{ "kiosk", "Ki-ốt", "kiosk_id", "k#.code", "k#.code || ' - ' || kc#.name_vi",
	  "LEFT JOIN kiosks k# ON k#.id = g.k# LEFT JOIN centers kc# ON kc#.id = k#.center_id",
	  true, DIM_PLAIN, "kiosk_id" },
	{ "procedure", "Thủ tục", "procedure", "coalesce(g.k#, '-')",
	  "coalesce(g.k#, 'Không ghi thủ tục')", "", true, DIM_PLAIN, "procedure" },
	{ "month", "Tháng", "date_trunc('month', day::timestamp)", "to_char(g.k#, 'YYYY-MM')",
	  "'Tháng ' || to_char(g.k#, 'MM/YYYY')", "", false, DIM_TIME, NULL },
	{ "quarter", "Quý", "date_trunc('quarter', day::timestamp)", "to_char(g.k#, 'YYYY-\"Q\"Q')",
	  "'Quý ' || to_char(g.k#, 'Q/YYYY')", "", false, DIM_TIME, NULL },
	{ "year", "Năm", "date_trunc('year', day::timestamp)", "to_char(g.k#, 'YYYY')",
	  "'Năm ' || to_char(g.k#, 'YYYY')", "", false, DIM_TIME, NULL },
	{ "criterion", "Tiêu chí", NULL, NULL, NULL, NULL, false, DIM_SPLIT, NULL },
	{ "element", "Yếu tố", NULL, NULL, NULL, NULL, false, DIM_SPLIT, NULL },
};

const struct report_dim *
report_dim_find(const char *name)
{
	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
		if (strcmp(name, dims[i].name) == 0)
			return &dims[i];
	return NULL;
}

bool
report_dim_in_sql(const struct report_dim *dim)
{
	return dim->kind != DIM_SPLIT;
}
