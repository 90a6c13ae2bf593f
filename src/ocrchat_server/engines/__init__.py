"""OCR engines behind one interface: Tesseract (cpu tier) and, later, Surya (vlm tier)."""
