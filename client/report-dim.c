/* The dimensions of sipas report, one row each: what --by calls it, its
 * heading, and the SQL fragments report-query.c puts together. A new
 * dimension is a new row here. */
#include <stddef.h>
#include <string.h>

#include "report-dim.h"

#define CENTER_JOIN "LEFT JOIN centers c# ON c#.id = g.k# " \
	"LEFT JOIN centers cp# ON cp#.id = c#.parent_id"

static const struct report_dim dims[] = {
	{ "area", "Lĩnh vực", "service_area_id", "sa#.code", "sa#.name_vi",
	  "LEFT JOIN service_areas sa# ON sa#.id = g.k#", false, DIM_PLAIN },
	{ "center", "Đơn vị", "center_id", "c#.code", "c#.name_vi", CENTER_JOIN,
	  false, DIM_PLAIN },
	{ "district", "Huyện", "center_id",
	  "CASE WHEN c#.level = 'commune' THEN cp#.code ELSE c#.code END",
	  "CASE WHEN c#.level = 'commune' THEN cp#.name_vi ELSE c#.name_vi END",
	  CENTER_JOIN, false, DIM_PLAIN },
	{ "level", "Cấp", "center_id", "c#.level",
	  "CASE c#.level WHEN 'province' THEN 'Cấp tỉnh' WHEN 'district' THEN 'Cấp huyện' "
	  "ELSE 'Cấp xã' END", CENTER_JOIN, false, DIM_PLAIN },
	{ "kiosk", "Ki-ốt", "kiosk_id", "k#.code", "k#.code || ' - ' || kc#.name_vi",
	  "LEFT JOIN kiosks k# ON k#.id = g.k# LEFT JOIN centers kc# ON kc#.id = k#.center_id",
	  true, DIM_PLAIN },
	{ "procedure", "Thủ tục", "procedure", "coalesce(g.k#, '-')",
	  "coalesce(g.k#, 'Không ghi thủ tục')", "", true, DIM_PLAIN },
	{ "month", "Tháng", "date_trunc('month', day::timestamp)", "to_char(g.k#, 'YYYY-MM')",
	  "'Tháng ' || to_char(g.k#, 'MM/YYYY')", "", false, DIM_TIME },
	{ "quarter", "Quý", "date_trunc('quarter', day::timestamp)", "to_char(g.k#, 'YYYY-\"Q\"Q')",
	  "'Quý ' || to_char(g.k#, 'Q/YYYY')", "", false, DIM_TIME },
	{ "year", "Năm", "date_trunc('year', day::timestamp)", "to_char(g.k#, 'YYYY')",
	  "'Năm ' || to_char(g.k#, 'YYYY')", "", false, DIM_TIME },
	{ "criterion", "Tiêu chí", NULL, NULL, NULL, NULL, false, DIM_SPLIT },
	{ "element", "Yếu tố", NULL, NULL, NULL, NULL, false, DIM_SPLIT },
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
