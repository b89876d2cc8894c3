COALESCE(line_item_unblended_cost, 0)
