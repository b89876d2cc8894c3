COALESCE(line_item_blended_cost, 0)
