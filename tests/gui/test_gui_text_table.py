"""Text table: rows set in one reset, columns measured on the rows in view only."""

from PySide6.QtCore import Qt

from gui.widgets.text_table import TextTableModel, text_table_view


class _CountingModel(TextTableModel):
    """A text table that counts how often the view asks it for a cell."""

    asked = 0

    def data(self, index, role=0):
        self.asked += 1
        return super().data(index, role)


def test_a_long_table_is_measured_on_the_rows_in_view(qtbot):
    model = _CountingModel(["Row", "Label", "Text"])
    view = text_table_view(model, stretch_column=2)
    qtbot.addWidget(view)
    view.resize(600, 240)
    view.show()
    rows = [(str(i), f"label {i % 4}", f"note {i} " * 5) for i in range(5000)]
    model.set_rows(rows)
    qtbot.wait(10)
    assert model.rowCount() == 5000 and model.data(model.index(7, 1)) == "label 3"
    assert model.headerData(2, Qt.Horizontal) == "Text"
    assert model.asked < 3000, model.asked  # in proportion to the rows in view, not to 5000
    assert view.horizontalHeader().sectionSize(1) >= view.fontMetrics().horizontalAdvance(
        "label 3")
    header = view.horizontalHeader()
    assert sum(header.sectionSize(c) for c in range(3)) == view.viewport().width()
    model.set_rows([])
    assert model.rowCount() == 0
