-- The two questionnaires of docs/sipas.md: the service-delivery form modelled
-- on the national SIPAS 2023 form (5-level scale) and the counter rating
-- (3-level scale).

WITH q AS (
    INSERT INTO questionnaires (code, name_vi, scale_min, scale_max, satisfied_min)
    VALUES ('sipas-dv-2023', 'Khảo sát mức độ hài lòng về cung ứng dịch vụ hành chính công', 1, 5, 4)
    RETURNING id
), levels AS (
    INSERT INTO scale_levels (questionnaire_id, value, label_vi, label_en)
    SELECT q.id, v, l, e FROM q, (VALUES
        (1, 'Rất không hài lòng', 'Very dissatisfied'),
        (2, 'Không hài lòng', 'Dissatisfied'),
        (3, 'Bình thường', 'Neutral'),
        (4, 'Hài lòng', 'Satisfied'),
        (5, 'Rất hài lòng', 'Very satisfied')) AS t (v, l, e)
), els AS (
    INSERT INTO elements (questionnaire_id, position, code, name_vi, name_en)
    SELECT q.id, p, c, n, e FROM q, (VALUES
        (1, 'TC', 'Tiếp cận dịch vụ', 'Access to the service'),
        (2, 'TT', 'Thủ tục hành chính', 'Administrative procedure'),
        (3, 'CC', 'Công chức giải quyết công việc', 'Civil servants'),
        (4, 'KQ', 'Kết quả cung ứng dịch vụ', 'Results of the service'),
        (5, 'PA', 'Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị', 'Handling of feedback')) AS t (p, c, n, e)
    RETURNING id, code
)
INSERT INTO criteria (questionnaire_id, element_id, position, code, text_vi, text_en)
SELECT q.id, els.id, p, c, t_vi, t_en FROM q, (VALUES
    (1, 'TC', 'TC1', 'Nơi ngồi chờ có đủ chỗ ngồi', 'Enough waiting seats'),
    (2, 'TC', 'TC2', 'Trang thiết bị phục vụ người dân đầy đủ', 'Adequate equipment'),
    (3, 'TC', 'TC3', 'Trang thiết bị hiện đại, dễ sử dụng', 'Modern, easy-to-use equipment'),
    (4, 'TC', 'TC4', 'Có biển chỉ dẫn, hướng dẫn rõ ràng, dễ hiểu', 'Clear signs and directions'),
    (5, 'TT', 'TT1', 'Thủ tục hành chính được niêm yết công khai đầy đủ', 'Procedure publicly posted'),
    (6, 'TT', 'TT2', 'Thành phần hồ sơ đúng quy định', 'Documents required as regulated'),
    (7, 'TT', 'TT3', 'Phí, lệ phí đúng quy định', 'Fees as regulated'),
    (8, 'TT', 'TT4', 'Thời hạn giải quyết đúng quy định', 'Time limit as regulated'),
    (9, 'CC', 'CC1', 'Công chức có thái độ giao tiếp lịch sự', 'Polite'),
    (10, 'CC', 'CC2', 'Công chức chú ý lắng nghe ý kiến', 'Listens'),
    (11, 'CC', 'CC3', 'Công chức trả lời, giải thích đầy đủ', 'Answers fully'),
    (12, 'CC', 'CC4', 'Công chức hướng dẫn kê khai hồ sơ tận tình, chu đáo, dễ hiểu', 'Helpful, clear guidance'),
    (13, 'CC', 'CC5', 'Công chức tuân thủ đúng quy định', 'Follows the rules'),
    (14, 'KQ', 'KQ1', 'Kết quả được trả đúng hẹn', 'On time'),
    (15, 'KQ', 'KQ2', 'Kết quả đúng quy định, thông tin đầy đủ, chính xác', 'Lawful, complete, accurate'),
    (16, 'KQ', 'KQ3', 'Kết quả giải quyết công bằng', 'Fair'),
    (17, 'PA', 'PA1', 'Có bố trí hình thức tiếp nhận góp ý, phản ánh, kiến nghị', 'A way to give feedback exists'),
    (18, 'PA', 'PA2', 'Dễ dàng thực hiện góp ý, phản ánh, kiến nghị', 'Giving feedback is easy'),
    (19, 'PA', 'PA3', 'Góp ý được tiếp nhận, xử lý tích cực và thông báo kết quả kịp thời', 'Feedback handled and answered promptly'))
    AS t (p, el, c, t_vi, t_en)
JOIN els ON els.code = t.el;

WITH q AS (
    INSERT INTO questionnaires (code, name_vi, scale_min, scale_max, satisfied_min)
    VALUES ('quay-2023', 'Đánh giá tại quầy một cửa', 1, 3, 2)
    RETURNING id
), levels AS (
    INSERT INTO scale_levels (questionnaire_id, value, label_vi, label_en)
    SELECT q.id, v, l, e FROM q, (VALUES
        (1, 'Không hài lòng', 'Dissatisfied'),
        (2, 'Hài lòng', 'Satisfied'),
        (3, 'Rất hài lòng', 'Very satisfied')) AS t (v, l, e)
), els AS (
    INSERT INTO elements (questionnaire_id, position, code, name_vi, name_en)
    SELECT q.id, 1, 'QY', 'Quầy một cửa', 'One-stop counter' FROM q
    RETURNING id
)
INSERT INTO criteria (questionnaire_id, element_id, position, code, text_vi, text_en)
SELECT q.id, els.id, p, c, t_vi, t_en FROM q, els, (VALUES
    (1, 'TD', 'Thái độ phục vụ của cán bộ', 'Staff attitude'),
    (2, 'HD', 'Hướng dẫn, giải thích rõ ràng, dễ hiểu', 'Clear guidance'),
    (3, 'TG', 'Thời gian chờ đợi, giải quyết hợp lý', 'Reasonable waiting and handling time'))
    AS t (p, c, t_vi, t_en);
