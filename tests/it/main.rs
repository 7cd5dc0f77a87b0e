mod xml_corpus;
