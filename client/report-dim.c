/* The dimensions of sipas report, one row each: what --by calls it, its
 * heading, the SQL fragments report-query.c puts together, and whether it
 * is about the respondents or about an officer. A new dimension is a new
 * row here. */
#include <stddef.h>
#include <string.h>

#include "report-dim.h"

#define CENTER_JOIN "LEFT JOIN centers c# ON c#.id = g.k#"
/* Under --as-of ($9), a center closed by then with no successor. */
#define CENTER_LABEL "c#.name_vi || CASE WHEN c#.closed_on < $9::date " \
	"THEN ' (đã đóng)' ELSE '' END"

/* A column of the respondent's profile (sql/001_schema.sql): its values
 * as labels, and a row for those who did not say. */
#define RESPONDENT(name, title, labels) \
	{ name, title, name, "coalesce(g.k#, '-')", \
	  "CASE g.k# WHEN " labels " ELSE 'Không trả lời' END", "", true, DIM_RESPONDENT, name }

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
	{ "counter", "Quầy", "counter_id", "coalesce(ctc#.code || '/' || ct#.code, '-')",
	  "coalesce(ct#.name_vi || ' - ' || ctc#.name_vi, 'Không ghi quầy')",
	  "LEFT JOIN counters ct# ON ct#.id = g.k# "
	  "LEFT JOIN centers ctc# ON ctc#.id = ct#.center_id", true, DIM_PLAIN, "counter_id" },
	{ "officer", "Công chức", "officer_id", "coalesce(o#.code, '-')",
	  "coalesce(o#.full_name, 'Không ghi công chức')",
	  "LEFT JOIN officers o# ON o#.id = g.k#", true, DIM_PERSONNEL, "officer_id" },
	RESPONDENT("gender", "Giới tính",
	    "'male' THEN 'Nam' WHEN 'female' THEN 'Nữ' WHEN 'other' THEN 'Khác'"),
	RESPONDENT("age_group", "Độ tuổi",
	    "'18-25' THEN 'Từ 18 đến 25 tuổi' WHEN '26-34' THEN 'Từ 26 đến 34 tuổi' "
	    "WHEN '35-49' THEN 'Từ 35 đến 49 tuổi' WHEN '50-60' THEN 'Từ 50 đến 60 tuổi' "
	    "WHEN '60+' THEN 'Trên 60 tuổi'"),
	RESPONDENT("ethnicity", "Dân tộc", "'kinh' THEN 'Kinh' WHEN 'other' THEN 'Dân tộc khác'"),
	RESPONDENT("education", "Trình độ học vấn",
	    "'none' THEN 'Chưa qua trường lớp' WHEN 'primary' THEN 'Tiểu học' "
	    "WHEN 'lower-secondary' THEN 'Trung học cơ sở' "
	    "WHEN 'upper-secondary' THEN 'Trung học phổ thông' "
	    "WHEN 'vocational' THEN 'Trung cấp, cao đẳng' WHEN 'university' THEN 'Đại học trở lên'"),
	RESPONDENT("occupation", "Nghề nghiệp",
	    "'farmer' THEN 'Nông dân' WHEN 'worker' THEN 'Công nhân' "
	    "WHEN 'public-sector' THEN 'Cán bộ, công chức, viên chức' "
	    "WHEN 'business' THEN 'Kinh doanh' WHEN 'student' THEN 'Học sinh, sinh viên' "
	    "WHEN 'retired' THEN 'Nghỉ hưu' WHEN 'other' THEN 'Khác'"),
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
